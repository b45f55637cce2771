import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ApiError } from '../http/errors.js';

/**
 * Per API key (per IP for anonymous calls). Runs after authentication, so a key is counted even
 * when it calls from many addresses. With Redis, the counters are shared by every API process.
 */
export default fp(
  async function rateLimiting(app: FastifyInstance, opts: { config: Config; redis?: Redis }) {
    await app.register(rateLimit, {
      global: true,
      max: opts.config.rateLimit.max,
      timeWindow: opts.config.rateLimit.windowMs,
      ...(opts.redis ? { redis: opts.redis, nameSpace: 'reflect-rate-limit:' } : {}),
      keyGenerator: (request) => (request.principal ? `key:${request.principal.keyRowId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, 'rate_limited', `Rate limit of ${context.max} requests exceeded; retry in ${context.after}`),
    });
  },
  { name: 'rate-limit', dependencies: ['auth'] },
);
