import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createLlmCallRecorder, type LlmCallRecorder } from '../llm/usage/recorder.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Records every LLM call in llm_calls and prunes the old ones. */
    llmUsage: LlmCallRecorder;
  }
}

/** Before the LLM plugin: its client reports every chat completion here. Closes before the database. */
export default fp(
  async function llmUsage(app: FastifyInstance, opts: { config: Config }) {
    const recorder = createLlmCallRecorder({
      db: app.database.db,
      log: app.log.child({ component: 'llm-usage' }),
      retentionDays: opts.config.llmCallRetentionDays,
    });
    app.decorate('llmUsage', recorder);
    app.addHook('onReady', async () => recorder.startPruning());
    app.addHook('onClose', async () => recorder.close());
  },
  { name: 'llmUsage', dependencies: ['database'] },
);
