-- The full-text half of reflect's hybrid memory search (src/db/memorySearch.ts). Kept out of
-- src/db/schema.ts so that ordinary selects of memories do not read it back; PostgreSQL keeps
-- it current on every insert and update of task or reflection.
ALTER TABLE "memories" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (to_tsvector('english', "task" || ' ' || "reflection")) STORED;--> statement-breakpoint
CREATE INDEX "memories_search_vector_idx" ON "memories" USING gin ("search_vector");
