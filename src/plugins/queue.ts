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
    let loggedAt = 0;
    const queue = opts.config.redisUrl
      ? createBullmqQueue(
          opts.config.redisUrl,
          (err) => {
            // Redis being down is logged once per distinct error and then once a minute, not once
            // per reconnect attempt; a later outage with the same message is logged again.
            const now = Date.now();
            if (err.message !== lastError || now - loggedAt >= 60_000) {
              app.log.warn({ err: err.message }, 'job queue: Redis error');
              loggedAt = now;
            }
            lastError = err.message;
          },
          { maxAttempts: opts.config.ingest.attempts },
        )
      : createEmbeddedQueue();
    app.decorate('queue', queue);
    app.addHook('onClose', async () => queue.close());
  },
  { name: 'queue' },
);
