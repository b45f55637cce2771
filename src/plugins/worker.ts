import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createLlmJudge } from '../judge/llmJudge.js';
import { createIngestProcessor } from '../learning/ingestProcessor.js';
import { startSweeper } from '../learning/sweeper.js';

declare module 'fastify' {
  interface FastifyInstance {
    sweeper: ReturnType<typeof startSweeper>;
  }
}

/** The background side: processes reviews and re-finds work the queue lost. */
export default fp(
  async function worker(app: FastifyInstance, opts: { config: Config }) {
    const { ingest } = opts.config;
    app.queue.startWorker(
      createIngestProcessor({
        db: app.database.db,
        reflector: app.reflector,
        merger: app.memoryMerger,
        consolidation: opts.config.consolidation,
        embedder: app.embedder,
        maxAttempts: ingest.attempts,
        queue: app.queue,
        judge: {
          judge: app.openai ? createLlmJudge({ client: app.openai, maxPromptChars: opts.config.llm.maxPromptChars }) : undefined,
          defaultModel: opts.config.llm.model,
        },
        log: app.log.child({ component: 'worker' }),
        observe: app.metrics.observeJob,
      }),
      { concurrency: ingest.concurrency, maxAttempts: ingest.attempts, backoffMs: ingest.backoffMs, lockMs: ingest.lockMs },
    );
    const sweeper = startSweeper({ db: app.database.db, queue: app.queue, intervalMs: ingest.sweepIntervalMs, log: app.log });
    app.decorate('sweeper', sweeper);
    app.addHook('onClose', async () => sweeper.stop());
  },
  { name: 'worker', dependencies: ['metrics', 'database', 'queue', 'llm', 'embedder'] },
);
