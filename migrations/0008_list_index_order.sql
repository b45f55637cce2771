DROP INDEX "llm_calls_project_created_idx";--> statement-breakpoint
DROP INDEX "memories_project_created_idx";--> statement-breakpoint
DROP INDEX "traces_project_created_id_idx";--> statement-breakpoint
CREATE INDEX "llm_calls_project_created_idx" ON "llm_calls" USING btree ("project_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "memories_project_created_idx" ON "memories" USING btree ("project_id","created_at" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "traces_project_created_id_idx" ON "traces" USING btree ("project_id","created_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);