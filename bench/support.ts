/**
 * Helpers shared by the benchmarks (bench/ingest.ts, bench/query.ts): latency statistics and their
 * formatting, output, thread CPU accounting, call timing, the server's bench configuration, and
 * HTTP load from a worker thread.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance, type IntervalHistogram } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

/** Percentiles, mean and maximum of a set of samples, in ms. */
export interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/** Summarises samples (ms) as Stats; NaN where there are none. */
export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return { n: s.length, p50: at(50), p95: at(95), p99: at(99), mean: s.reduce((a, b) => a + b, 0) / (s.length || 1), max: s.at(-1) ?? NaN };
}

/** Event-loop delay recorded by monitorEventLoopDelay (ns), as Stats in ms. */
export function lagStats(h: IntervalHistogram): Stats {
  return { n: h.count, p50: h.percentile(50) / 1e6, p95: h.percentile(95) / 1e6, p99: h.percentile(99) / 1e6, mean: h.mean / 1e6, max: h.max / 1e6 };
}

/** A duration in ms with 3 significant figures or so ('—' when not finite). */
export const ms = (x: number) => (Number.isFinite(x) ? (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)) : '—');

/** Stats as "p50 … / p95 … / p99 … ms", for a table cell. */
export const fmt = (s: Stats) => `p50 ${ms(s.p50)} / p95 ${ms(s.p95)} / p99 ${ms(s.p99)} ms`;

/** A line of the report, on stdout. */
export const log = (line = '') => process.stdout.write(`${line}\n`);

/** A progress note, on stderr (kept out of the report). */
export const progress = (line: string) => process.stderr.write(`  … ${line}\n`);

/** Resolves after `msec` ms. */
export const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

/** The machine's 1, 5 and 15 minute load averages, for the report. */
export const loadAverage = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** CPU time per thread of this process, in ms (Linux /proc; utime + stime in 10 ms ticks). */
export function threadCpu(): Map<number, number> {
  try {
    return new Map(
      readdirSync('/proc/self/task').map((tid) => {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return [Number(tid), (Number(fields[11]) + Number(fields[12])) * 10] as const;
      }),
    );
  } catch {
    return new Map();
  }
}

/** CPU used between two snapshots by the main thread and by the other threads (except `exclude`). */
export function cpuUsed(before: Map<number, number>, after: Map<number, number>, exclude: number[] = []): { main: number; others: number } {
  let main = 0;
  let others = 0;
  for (const [tid, t] of after) {
    if (exclude.includes(tid)) continue;
    const used = t - (before.get(tid) ?? 0);
    if (tid === process.pid) main += used;
    else others += used;
  }
  return { main, others };
}

/** Wraps a method of a decorated object (the services hold the same object) to time each call into `into`. */
export function timeCalls<T extends object, K extends keyof T>(target: T, method: K, into: number[]): void {
  const original = (target[method] as (...a: unknown[]) => Promise<unknown>).bind(target);
  (target as Record<K, unknown>)[method] = async (...a: unknown[]) => {
    const start = performance.now();
    try {
      return await original(...a);
    } finally {
      into.push(performance.now() - start);
    }
  };
}

/** The environment for loadConfig of a bench server: production, silent, no rate limit, data in `dataDir`, plus `env`. */
export function serverEnv(dataDir: string, env: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'production',
    LOG_LEVEL: 'silent',
    REFLECT_DATA_DIR: dataDir,
    REFLECT_RATE_LIMIT_MAX: '1000000000',
    // Another PostgreSQL (or the embedded engine served from elsewhere) when DATABASE_URL is set.
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    // The local embedder's threads, to compare pool sizes (default: the available CPUs).
    ...(process.env.REFLECT_EMBEDDING_THREADS ? { REFLECT_EMBEDDING_THREADS: process.env.REFLECT_EMBEDDING_THREADS } : {}),
    ...env,
  };
}

// HTTP load from a worker thread, so the client does not share the server's event loop.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
(async () => {
  const { url, headers, warmup, bodies, concurrency, expect } = workerData;
  let errors = 0, firstError;
  async function run(list) {
    const latencies = new Array(list.length);
    let next = 0;
    const start = performance.now();
    await Promise.all(Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < list.length; i = next++) {
        const t = performance.now();
        try {
          const res = await fetch(url, { method: 'POST', headers, body: list[i] });
          const text = await res.text();
          if (res.status !== expect) { errors++; firstError ??= res.status + ' ' + text.slice(0, 300); }
        } catch (e) { errors++; firstError ??= String(e); }
        latencies[i] = performance.now() - t;
      }
    }));
    return { latencies, wallMs: performance.now() - start };
  }
  let tid;
  try { tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop()); } catch {}
  if (warmup.length) await run(warmup);
  const measured = await run(bodies);
  parentPort.postMessage({ ...measured, errors, firstError, tid });
})();
`;

/** What httpLoad measured: per-request latencies of the measured bodies, wall time, and errors. */
export interface HttpResult {
  latencies: number[];
  wallMs: number;
  errors: number;
  firstError?: string;
  /** The client thread's id, to leave its CPU out of the server's. */
  tid?: number;
}

/** POSTs `warmup` then `bodies` (JSON) to `url` with `key` at `concurrency`, from a worker thread; a status other than `expect` is an error. */
export function httpLoad(url: string, key: string, warmup: string[], bodies: string[], concurrency: number, expect: number): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(CLIENT, {
      eval: true,
      workerData: { url, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, warmup, bodies, concurrency, expect },
    });
    worker.once('message', (m: HttpResult) => {
      resolve(m);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}
