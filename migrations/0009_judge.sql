ALTER TABLE "projects" ADD COLUMN "judge_enabled" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "judge_rubric" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "judge_model" text;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "judge_alpha" double precision;--> statement-breakpoint
ALTER TABLE "projects" ADD COLUMN "judge_metadata_filter" jsonb;--> statement-breakpoint
ALTER TABLE "q_value_updates" ADD COLUMN "review_source" text DEFAULT 'human' NOT NULL;--> statement-breakpoint
ALTER TABLE "q_value_updates" ADD COLUMN "overridden" jsonb;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "review_source" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "overridden_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_status" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_result" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_reason" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_model" text;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judged_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "traces" ADD COLUMN "judge_error" text;--> statement-breakpoint
CREATE INDEX "traces_project_judged_idx" ON "traces" USING btree ("project_id","judged_at") WHERE judge_result is not null;--> statement-breakpoint
-- Reviews before the judge existed were all given over the API.
UPDATE "traces" SET "review_source" = 'human' WHERE "review_result" IS NOT NULL;
