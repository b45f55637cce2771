import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import type { Embedder } from '../embeddings/embedder.js';
import { createEmbedder } from '../embeddings/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    embedder: Embedder;
  }
}

export default fp(
  async function embedder(app: FastifyInstance, opts: { config: Config; embedder?: Embedder }) {
    const embedder = opts.embedder ?? (await createEmbedder(opts.config.embedding, app.openai));
    app.decorate('embedder', embedder);
    if (!opts.embedder) app.addHook('onClose', async () => embedder.close());
  },
  { name: 'embedder', dependencies: ['llm'] },
);
