import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type JobOutcome = 'completed' | 'retry' | 'failed' | 'skipped';
export type LlmOutcome = 'ok' | 'error';

/**
 * The Prometheus metrics of one process. Gauges that need a query (queue depth, memories) are
 * read when scraped, so an idle server does no work for them.
 */
export function createMetrics(sources: { queueDepth: () => Promise<number>; memoryCount: () => Promise<number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'reflect_' });

  const httpDuration = new Histogram({
    name: 'reflect_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  new Gauge({
    name: 'reflect_queue_depth',
    help: 'Review jobs waiting, delayed or running',
    registers: [registry],
    async collect() {
      this.set(await sources.queueDepth().catch(() => Number.NaN));
    },
  });
  new Gauge({
    name: 'reflect_memories',
    help: 'Memories stored, all projects',
    registers: [registry],
    async collect() {
      this.set(await sources.memoryCount().catch(() => Number.NaN));
    },
  });
  const jobDuration = new Histogram({
    name: 'reflect_job_duration_seconds',
    help: 'Time to process one attempt of a review job, by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [registry],
  });
  const jobFailures = new Counter({
    name: 'reflect_job_failures_total',
    help: 'Failed attempts of review jobs (retry = will be tried again, failed = gave up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const llmCalls = new Counter({
    name: 'reflect_llm_calls_total',
    help: 'LLM calls by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const llmTokens = new Counter({
    name: 'reflect_llm_tokens_total',
    help: 'LLM tokens by kind (prompt, completion)',
    labelNames: ['kind'] as const,
    registers: [registry],
  });
  const llmLatency = new Histogram({
    name: 'reflect_llm_latency_seconds',
    help: 'LLM call latency',
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 40, 60],
    registers: [registry],
  });

  return {
    registry,
    observeRequest(method: string, route: string, statusCode: number, seconds: number) {
      httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
    },
    observeJob(outcome: JobOutcome, seconds: number) {
      jobDuration.observe({ outcome }, seconds);
      if (outcome === 'retry' || outcome === 'failed') jobFailures.inc({ outcome });
    },
    observeLlmCall(outcome: LlmOutcome, seconds: number, usage?: { prompt_tokens?: number; completion_tokens?: number }) {
      llmCalls.inc({ outcome });
      llmLatency.observe(seconds);
      if (usage?.prompt_tokens) llmTokens.inc({ kind: 'prompt' }, usage.prompt_tokens);
      if (usage?.completion_tokens) llmTokens.inc({ kind: 'completion' }, usage.completion_tokens);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
