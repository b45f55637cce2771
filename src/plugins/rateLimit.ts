import { once } from 'node:events';
import { createRequire } from 'node:module';
import rateLimit, { type FastifyRateLimitStore } from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { ApiError } from '../http/errors.js';

/** A Redis that does not answer within this time lets the request through rather than hold it. */
const REDIS_COMMAND_TIMEOUT_MS = 1_000;
/** How long start-up waits for Redis before serving (unlimited until Redis answers). */
const REDIS_CONNECT_WAIT_MS = 3_000;
/** An ongoing outage is logged again at most this often. */
const OUTAGE_LOG_INTERVAL_MS = 60_000;

type StoreCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;
interface CountingStore extends FastifyRateLimitStore {
  read?(key: string, callback: StoreCallback, timeWindow: number, max: number): void;
}
type RedisStoreCtor = new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, nameSpace: string) => CountingStore;
// The plugin's own Redis store (its Lua script counts and sets the window atomically), which the
// package does not export by name; wrapped below so that its failures are logged.
const RedisStore = createRequire(import.meta.url)('@fastify/rate-limit/store/RedisStore.js') as RedisStoreCtor;

/**
 * Per API key (per IP for anonymous calls). Runs after authentication, so a key is counted even
 * when it calls from many addresses. With REDIS_URL, the counters live in Redis and are shared by
 * every API process; without it, each process counts alone.
 *
 * Fail-open: while Redis is unreachable requests are let through unlimited, with a logged warning
 * (first failure, then once a minute), so a Redis outage never takes the API down with it.
 */
export default fp(
  async function rateLimiting(app: FastifyInstance, opts: { config: Config }) {
    const redis = opts.config.redisUrl ? await connectCounterStore(opts.config.redisUrl, app.log) : undefined;
    const warnOutage = outageWarner(app.log);
    if (redis) app.addHook('onClose', async () => void redis.disconnect());

    await app.register(rateLimit, {
      global: true,
      max: opts.config.rateLimit.max,
      timeWindow: opts.config.rateLimit.windowMs,
      ...(redis ? { store: failureLoggingStore(new RedisStore(false, false, redis, 'reflect-rate-limit:'), warnOutage), skipOnError: true } : {}),
      keyGenerator: (request) => (request.principal ? `key:${request.principal.keyRowId}` : `ip:${request.ip}`),
      errorResponseBuilder: (_request, context) =>
        new ApiError(429, 'rate_limited', `Rate limit of ${context.max} requests exceeded; retry in ${context.after}`),
    });
  },
  { name: 'rate-limit', dependencies: ['auth'] },
);

/**
 * A client that fails fast while Redis is down (no offline queue, a command timeout) and keeps
 * reconnecting in the background. Start-up waits briefly for it, and goes on without it.
 */
async function connectCounterStore(redisUrl: string, log: FastifyBaseLogger): Promise<Redis> {
  const redis = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    connectionName: 'reflect-rate-limit',
  });
  // Connection errors are reported through the store's failures; without a listener ioredis prints them.
  redis.on('error', () => undefined);
  // `once` rejects on the client's first 'error' (e.g. connection refused): then Redis is down now.
  const ready = once(redis, 'ready').then(
    () => true,
    () => false,
  );
  const waited = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), REDIS_CONNECT_WAIT_MS).unref());
  if (!(await Promise.race([ready, waited]))) {
    log.warn('rate limit: Redis is not reachable yet; requests are not limited until it is');
  }
  return redis;
}

function outageWarner(log: FastifyBaseLogger): (error: Error) => void {
  let loggedAt = 0;
  return (error) => {
    const now = Date.now();
    if (now - loggedAt < OUTAGE_LOG_INTERVAL_MS) return;
    loggedAt = now;
    log.warn({ err: error.message }, 'rate limit: Redis unavailable, requests are let through unlimited until it is back');
  };
}

/** Passes every call through to `inner`, telling `onFailure` about each error first. */
function failureLoggingStore(inner: CountingStore, onFailure: (error: Error) => void): new () => CountingStore {
  const wrap = (store: CountingStore): CountingStore => {
    const report =
      (callback: StoreCallback): StoreCallback =>
      (error, result) => {
        if (error) onFailure(error);
        callback(error, result);
      };
    return {
      incr: (key, callback, timeWindow, max) => store.incr(key, report(callback), timeWindow, max),
      ...(store.read ? { read: (key: string, callback: StoreCallback, timeWindow: number, max: number) => store.read!(key, report(callback), timeWindow, max) } : {}),
      child: (routeOptions) => wrap(store.child(routeOptions)),
    };
  };
  const wrapped = wrap(inner);
  // The plugin constructs its store with `new`; a constructor returning an object yields that object.
  return function LoggedStore() {
    return wrapped;
  } as unknown as new () => CountingStore;
}
