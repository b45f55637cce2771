import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createBullmqQueue } from '../queue/bullmqQueue.js';
import { createEmbeddedQueue } from '../queue/embeddedQueue.js';
import type { JobQueue } from '../queue/jobQueue.js';

declare module 'fastify' {
  interface FastifyInstance {
    queue: JobQueue;
  }
}

/** BullMQ on Redis when REDIS_URL is set; otherwise the in-process transport. */
export default fp(
  async function queue(app: FastifyInstance, opts: { config: Config }) {
    let lastError = '';
    const queue = opts.config.redisUrl
      ? createBullmqQueue(opts.config.redisUrl, (err) => {
          // Redis being down is logged once per distinct error, not once per retry.
          if (err.message !== lastError) app.log.warn({ err: err.message }, 'job queue: Redis error');
          lastError = err.message;
        })
      : createEmbeddedQueue();
    app.decorate('queue', queue);
    app.addHook('onClose', async () => queue.close());
  },
  { name: 'queue' },
);
