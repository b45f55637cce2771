import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { RetrievalDefaults } from './memories/ranking.js';

/**
 * Each variable carries what it allows (its `description`), which is what a ConfigError says.
 * Empty strings in the environment mean "unset" (see `withoutBlanks`), as in most twelve-factor tools.
 */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined ? undefined : v.trim()));

const int = (def: number, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number()
    .int()
    .min(min)
    .max(max)
    .default(def)
    .describe(max === Number.MAX_SAFE_INTEGER ? `must be an integer of at least ${min}` : `must be an integer from ${min} to ${max}`);

const oneOf = <const T extends readonly [string, ...string[]]>(values: T, def: T[number]) =>
  z
    .enum(values)
    .default(def)
    .describe(`must be one of ${values.join(', ')}`);

const url = (protocols: string[], pattern: RegExp) =>
  optionalString.pipe(z.url({ protocol: pattern }).optional()).describe(`must be a URL starting with ${protocols.map((p) => `${p}://`).join(' or ')}`);

/** A cosine setting that may be switched off with "none". */
const optionalCosine = (def: string) =>
  z
    .string()
    .default(def)
    .transform((v) => (v.trim().toLowerCase() === 'none' ? null : Number(v)))
    .pipe(z.number().min(-1).max(2).nullable())
    .describe('must be a number from -1 to 2, or none');

const text = (def: string) => z.string().min(1).default(def).describe('must not be empty');

const envSchema = z.object({
  NODE_ENV: oneOf(['development', 'production', 'test'], 'development'),
  PORT: int(8000, 0, 65535),
  HOST: text('127.0.0.1'),
  LOG_LEVEL: oneOf(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], 'info'),

  DATABASE_URL: url(['postgres', 'postgresql'], /^postgres(ql)?$/),
  /** How often to try DATABASE_URL at start before giving up (a database in compose may start late). */
  REFLECT_DATABASE_CONNECT_ATTEMPTS: int(6, 1, 100),
  /** The first wait between those tries; it doubles each time, up to 10 s. */
  REFLECT_DATABASE_CONNECT_BACKOFF_MS: int(1_000, 1),
  REFLECT_DATA_DIR: text('./.reflect-data'),
  REDIS_URL: url(['redis', 'rediss'], /^rediss?$/),

  REFLECT_BOOTSTRAP_TOKEN: optionalString,
  OPENAI_API_KEY: optionalString,
  OPENAI_BASE_URL: url(['http', 'https'], /^https?$/),
  REFLECT_LLM_MODEL: text('gpt-4o-mini'),
  REFLECT_LLM_TIMEOUT_MS: int(60_000, 100),
  /** Rough character budget for the trajectory inside a reflection prompt (~4 chars per token). */
  REFLECT_LLM_MAX_PROMPT_CHARS: int(48_000, 2_000),
  /** Wall-clock limit of one reflect request (all its LLM calls and searches); 504 beyond it. */
  REFLECT_REFLECT_TIMEOUT_MS: int(120_000, 100),

  REFLECT_EMBEDDING_PROVIDER: oneOf(['local', 'openai'], 'local'),
  REFLECT_EMBEDDING_MODEL: optionalString,
  REFLECT_EMBEDDING_DIMENSIONS: z.coerce.number().int().min(1).max(16_000).optional().describe('must be an integer from 1 to 16000'),
  REFLECT_EMBEDDING_CACHE_SIZE: int(2_000, 0),
  /** Threads of the local embedder (each loads the model, ~90 MB); default: the CPUs this process may use. */
  REFLECT_EMBEDDING_THREADS: int(availableParallelism(), 1, 64),

  /** How long a reviewer's claim on a trace in the review queue lasts (renewed by claiming it again). */
  REFLECT_REVIEW_LEASE_MS: int(300_000, 1_000),
  /** Rows of the LLM usage log older than this many days are deleted (0: kept forever). */
  REFLECT_LLM_CALL_RETENTION_DAYS: int(30, 0, 36_500),
  Q_LEARNING_ALPHA: z.coerce.number().gt(0).max(1).default(0.3).describe('must be a number greater than 0 and at most 1'),
  /** Retrieval defaults for callers that leave the parameter out (the learning benchmark chose them; see README). */
  REFLECT_DEFAULT_LAMBDA: z.coerce.number().min(0).max(1).default(0.5).describe('must be a number from 0 to 1'),
  REFLECT_DEFAULT_SIMILARITY_FLOOR: optionalCosine('0.2'),
  REFLECT_DEFAULT_SIMILARITY_MARGIN: optionalCosine('none'),
  /** Merge a reviewed run's lesson into a near-duplicate live memory instead of adding one (projects may override). */
  REFLECT_CONSOLIDATION: oneOf(['on', 'off'], 'on'),
  /** Task-embedding cosine at or above which two lessons of the same outcome are near-duplicates. */
  REFLECT_CONSOLIDATION_THRESHOLD: z.coerce.number().gt(0).max(1).default(0.92).describe('must be a number greater than 0 and at most 1'),
  /** Memories of each kind (proven strategies, pitfalls) a Skill is built from, highest Q first. */
  REFLECT_SKILL_MAX_MEMORIES: int(15, 1, 200),

  /** Replace secrets (API keys, tokens, passwords, private keys) in traces and memories before storing them. */
  REFLECT_REDACT_SECRETS: oneOf(['true', 'false'], 'true'),
  REFLECT_BODY_LIMIT: int(10 * 1024 * 1024, 1024),
  REFLECT_RATE_LIMIT_MAX: int(6_000, 1),
  REFLECT_RATE_LIMIT_WINDOW_MS: int(60_000, 100),

  REFLECT_WORKER_CONCURRENCY: int(8, 1, 1_000),
  REFLECT_INGEST_ATTEMPTS: int(5, 1, 100),
  REFLECT_INGEST_BACKOFF_MS: int(1_000, 1),
  /** How often the sweeper re-enqueues traces whose state says queued but have no live job. */
  REFLECT_SWEEP_INTERVAL_MS: int(30_000, 100),
  /** A job held longer than this by a dead worker is handed to another one. */
  REFLECT_JOB_LOCK_MS: int(30_000, 500),
  /** How long SIGTERM may take (drain requests, finish jobs) before the process exits anyway. */
  REFLECT_SHUTDOWN_TIMEOUT_MS: int(30_000, 100),
  /** Bearer token for GET /metrics on the API port (unset: not served there). */
  REFLECT_METRICS_TOKEN: optionalString,
  /** A port of its own for GET /metrics, without auth (unset: none; 0: any free port, logged at start). */
  REFLECT_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional().describe('must be an integer from 0 to 65535'),
});

/** `PORT=` must mean "default", not `Number('') === 0` (a random port). */
function withoutBlanks(source: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(source)) if (value !== undefined && value.trim() !== '') out[name] = value;
  return out;
}

export type Env = z.infer<typeof envSchema>;

/** Every environment variable the server reads. */
export const ENV_VARIABLES = Object.keys(envSchema.shape);

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  logLevel: Env['LOG_LEVEL'];
  databaseUrl?: string;
  databaseConnect: { attempts: number; backoffMs: number };
  dataDir: string;
  redisUrl?: string;
  bootstrapToken?: string;
  llm: {
    apiKey?: string;
    baseUrl?: string;
    model: string;
    timeoutMs: number;
    maxPromptChars: number;
  };
  reflect: {
    timeoutMs: number;
  };
  embedding: {
    provider: 'local' | 'openai';
    model?: string;
    dimensions?: number;
    cacheSize: number;
    /** Threads of the local embedder. */
    threads: number;
  };
  qLearningAlpha: number;
  reviewLeaseMs: number;
  llmCallRetentionDays: number;
  retrieval: RetrievalDefaults;
  consolidation: { enabled: boolean; threshold: number };
  skill: { maxMemories: number };
  bodyLimit: number;
  shutdownTimeoutMs: number;
  metrics: { token?: string; port?: number };
  redactSecrets: boolean;
  rateLimit: { max: number; windowMs: number };
  ingest: {
    concurrency: number;
    attempts: number;
    backoffMs: number;
    sweepIntervalMs: number;
    lockMs: number;
  };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once; every problem names its variable and what is allowed, never the value. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(withoutBlanks(source));
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((issue) => String(issue.path[0])))];
    throw new ConfigError(
      names.map((name) => `${name}: ${envSchema.shape[name as keyof typeof envSchema.shape]?.description ?? 'is invalid'}`),
    );
  }
  const e = parsed.data;
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    logLevel: e.LOG_LEVEL,
    databaseUrl: e.DATABASE_URL,
    databaseConnect: { attempts: e.REFLECT_DATABASE_CONNECT_ATTEMPTS, backoffMs: e.REFLECT_DATABASE_CONNECT_BACKOFF_MS },
    dataDir: e.REFLECT_DATA_DIR,
    redisUrl: e.REDIS_URL,
    bootstrapToken: e.REFLECT_BOOTSTRAP_TOKEN,
    llm: {
      apiKey: e.OPENAI_API_KEY,
      baseUrl: e.OPENAI_BASE_URL,
      model: e.REFLECT_LLM_MODEL,
      timeoutMs: e.REFLECT_LLM_TIMEOUT_MS,
      maxPromptChars: e.REFLECT_LLM_MAX_PROMPT_CHARS,
    },
    reflect: { timeoutMs: e.REFLECT_REFLECT_TIMEOUT_MS },
    embedding: {
      provider: e.REFLECT_EMBEDDING_PROVIDER,
      model: e.REFLECT_EMBEDDING_MODEL,
      dimensions: e.REFLECT_EMBEDDING_DIMENSIONS,
      cacheSize: e.REFLECT_EMBEDDING_CACHE_SIZE,
      threads: e.REFLECT_EMBEDDING_THREADS,
    },
    qLearningAlpha: e.Q_LEARNING_ALPHA,
    reviewLeaseMs: e.REFLECT_REVIEW_LEASE_MS,
    llmCallRetentionDays: e.REFLECT_LLM_CALL_RETENTION_DAYS,
    retrieval: {
      lambda: e.REFLECT_DEFAULT_LAMBDA,
      gate: { floor: e.REFLECT_DEFAULT_SIMILARITY_FLOOR, margin: e.REFLECT_DEFAULT_SIMILARITY_MARGIN },
    },
    consolidation: { enabled: e.REFLECT_CONSOLIDATION === 'on', threshold: e.REFLECT_CONSOLIDATION_THRESHOLD },
    skill: { maxMemories: e.REFLECT_SKILL_MAX_MEMORIES },
    bodyLimit: e.REFLECT_BODY_LIMIT,
    shutdownTimeoutMs: e.REFLECT_SHUTDOWN_TIMEOUT_MS,
    metrics: { token: e.REFLECT_METRICS_TOKEN, port: e.REFLECT_METRICS_PORT },
    redactSecrets: e.REFLECT_REDACT_SECRETS === 'true',
    rateLimit: { max: e.REFLECT_RATE_LIMIT_MAX, windowMs: e.REFLECT_RATE_LIMIT_WINDOW_MS },
    ingest: {
      concurrency: e.REFLECT_WORKER_CONCURRENCY,
      attempts: e.REFLECT_INGEST_ATTEMPTS,
      backoffMs: e.REFLECT_INGEST_BACKOFF_MS,
      sweepIntervalMs: e.REFLECT_SWEEP_INTERVAL_MS,
      lockMs: e.REFLECT_JOB_LOCK_MS,
    },
  };
}
