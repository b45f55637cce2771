CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"key_id" text NOT NULL,
	"label" text NOT NULL,
	"environment" text NOT NULL,
	"secret_hash" text NOT NULL,
	"scopes" text[] NOT NULL,
	"is_master" boolean DEFAULT false NOT NULL,
	"user_id" uuid NOT NULL,
	"project_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_key_id_unique" UNIQUE("key_id")
);
--> statement-breakpoint
CREATE TABLE "memories" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"task" text NOT NULL,
	"reflection" text NOT NULL,
	"q_value" double precision DEFAULT 0.5 NOT NULL,
	"success" boolean,
	"summary" text DEFAULT '' NOT NULL,
	"key_mistake" text DEFAULT '' NOT NULL,
	"correct_action" text DEFAULT '' NOT NULL,
	"guidance" text DEFAULT '' NOT NULL,
	"applicable_tools" text[] DEFAULT '{}' NOT NULL,
	"tools_used" text[] DEFAULT '{}' NOT NULL,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"tags" text[] DEFAULT '{}' NOT NULL,
	"reflection_source" text,
	"embedding" vector NOT NULL,
	"embedding_model" text NOT NULL,
	"source_trace_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"owner_user_id" uuid NOT NULL,
	"slug" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "q_value_updates" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"memory_id" uuid NOT NULL,
	"trace_id" uuid NOT NULL,
	"q_before" double precision NOT NULL,
	"q_after" double precision NOT NULL,
	"reward" double precision NOT NULL,
	"alpha" double precision NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "traces" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"project_id" uuid NOT NULL,
	"task" text NOT NULL,
	"trajectory" jsonb NOT NULL,
	"final_response" text NOT NULL,
	"retrieved_memory_ids" uuid[] DEFAULT '{}' NOT NULL,
	"model" text,
	"metadata" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"reference_context" text,
	"alpha" double precision,
	"review_status" text DEFAULT 'pending' NOT NULL,
	"ingest_status" text NOT NULL,
	"ingest_attempts" integer DEFAULT 0 NOT NULL,
	"last_ingest_error" text,
	"ingest_round" integer DEFAULT 0 NOT NULL,
	"review_result" text,
	"review_feedback" text,
	"review_alpha" double precision,
	"reviewed_at" timestamp with time zone,
	"created_memory_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"external_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_external_id_unique" UNIQUE("external_id")
);
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memories" ADD CONSTRAINT "memories_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "memories" ADD CONSTRAINT "memories_source_trace_id_traces_id_fk" FOREIGN KEY ("source_trace_id") REFERENCES "public"."traces"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_owner_user_id_users_id_fk" FOREIGN KEY ("owner_user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "q_value_updates" ADD CONSTRAINT "q_value_updates_memory_id_memories_id_fk" FOREIGN KEY ("memory_id") REFERENCES "public"."memories"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "q_value_updates" ADD CONSTRAINT "q_value_updates_trace_id_traces_id_fk" FOREIGN KEY ("trace_id") REFERENCES "public"."traces"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "traces" ADD CONSTRAINT "traces_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_project_idx" ON "api_keys" USING btree ("project_id");--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "api_keys" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "memories_project_created_idx" ON "memories" USING btree ("project_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "memories_source_trace_key" ON "memories" USING btree ("source_trace_id");--> statement-breakpoint
CREATE UNIQUE INDEX "projects_owner_slug_key" ON "projects" USING btree ("owner_user_id","slug");--> statement-breakpoint
CREATE UNIQUE INDEX "q_value_updates_memory_trace_key" ON "q_value_updates" USING btree ("memory_id","trace_id");--> statement-breakpoint
CREATE INDEX "traces_project_created_idx" ON "traces" USING btree ("project_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "traces_ingest_pending_idx" ON "traces" USING btree ("ingest_status","updated_at") WHERE ingest_status in ('queued', 'processing');