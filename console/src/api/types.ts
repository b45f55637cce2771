/**
 * Wire shapes the console reads: the generated OpenAPI types where the server documents them.
 * The hand-written ones below are the agreed shapes of endpoints not yet in the document.
 */
import type { Schemas } from './client.ts';

export type Json = Record<string, unknown>;
export type ReviewResult = 'pass' | 'fail';
export type Message = Schemas['Message'];
export type Trace = Schemas['Trace'];
export type Memory = Schemas['Memory'] & { use_count?: number; last_used_at?: string | null };
export type QValueChange = Schemas['QValueChange'];
export type Project = Schemas['ProjectSummary'];
export type ApiKeyInfo = Schemas['ApiKeyInfo'];
export type CreatedApiKey = Schemas['CreatedApiKey'];
export type MentalModel = Omit<Schemas['MentalModel'], 'trigger'>;
export type Directive = Schemas['Directive'];
export type ReflectAnswer = Schemas['ReflectResponse'];

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
