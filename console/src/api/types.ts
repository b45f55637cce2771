/**
 * Wire shapes the console reads. Temporary: replaced by the types generated from the server's
 * OpenAPI document (client/) as soon as that client lands.
 */
export type Json = Record<string, unknown>;
export type ReviewResult = 'pass' | 'fail';
export type ReviewStatus = 'pending' | 'reviewed';
export type IngestStatus = 'queued' | 'processing' | 'completed' | 'failed';

export interface Message {
  role: string;
  [field: string]: unknown;
}

export interface Reviewer {
  key_id: string;
  label: string;
}

export interface Trace {
  id: string;
  task: string;
  trajectory: Message[];
  final_response: string;
  retrieved_memory_ids: string[];
  review_status: ReviewStatus;
  ingest_status: IngestStatus;
  ingest_attempts: number;
  last_ingest_error: string | null;
  model: string | null;
  metadata: Json;
  review: { result: ReviewResult; feedback_text: string | null; alpha: number; created_at: string; reviewer?: Reviewer | null } | null;
  lease?: { key_id: string; label: string; expires_at: string } | null;
  created_memory_id: string | null;
  reference_context: string | null;
  created_at: string;
  updated_at: string;
}

export interface Memory {
  id: string;
  task: string;
  reflection: string;
  q_value: number;
  similarity: number;
  score: number;
  success: boolean | null;
  summary: string;
  key_mistake: string;
  correct_action: string;
  guidance: string;
  applicable_tools: string[];
  tools_used: string[];
  metadata: Json;
  tags: string[];
  fact_type: string;
  source_trace_id: string | null;
  use_count?: number;
  last_used_at?: string | null;
  created_at: string;
  updated_at: string;
}

export interface QValueChange {
  memory_id: string;
  trace_id: string;
  q_before: number;
  q_after: number;
  reward: number;
  alpha: number;
  created_at: string;
}

export interface Project {
  id: string;
  slug: string;
  created_at: string;
  trace_count: number;
  pending_review_count: number;
  memory_count: number;
}

export interface ApiKeyInfo {
  id: string;
  label: string;
  key_prefix: string;
  environment: 'live' | 'test';
  scopes: string[];
  is_master: boolean;
  user_id: string;
  project_id: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}
export type CreatedApiKey = ApiKeyInfo & { api_key: string };

export interface StatsDay {
  date: string;
  pass: number;
  fail: number;
  pass_rate: number | null;
  memories_created: number;
  llm_calls: number;
  tokens_in: number;
  tokens_out: number;
}
export interface Stats {
  traces: number;
  pending_reviews: number;
  memories: number;
  reviewed: number;
  passed: number;
  failed: number;
  pass_rate: number | null;
  days: StatsDay[];
  q_histogram: { from: number; to: number; count: number }[];
}

export interface LlmCall {
  id: string;
  purpose: string;
  model: string;
  tokens_in: number;
  tokens_out: number;
  latency_ms: number;
  outcome: 'ok' | 'error';
  error: string | null;
  trace_id: string | null;
  request_id: string | null;
  created_at: string;
}

export interface BulkReviewResult {
  results: { trace_id: string; status: 'queued' | 'conflict' | 'not_found'; detail?: string }[];
  queued: number;
  conflicts: number;
}

export interface MentalModel {
  id: string;
  bank_id: string;
  name: string;
  source_query: string;
  content: string;
  tags: string[];
  max_tokens: number;
  last_refreshed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface Directive {
  id: string;
  bank_id: string;
  name: string;
  content: string;
  priority: number;
  is_active: boolean;
  tags: string[];
  created_at: string;
  updated_at: string;
}

export interface ReflectAnswer {
  text: string;
  based_on?: {
    memories: { id: string; text: string; type: string; context: string }[];
    mental_models: { id: string; text: string; context: string }[];
    directives: { id: string; name: string; content: string }[];
  };
  usage: { input_tokens: number; output_tokens: number; total_tokens: number };
  trace?: {
    tool_calls: { tool: string; input: Json; output: Json | null; duration_ms: number; iteration: number }[];
    llm_calls: { scope: string; duration_ms: number }[];
  };
}
