/**
 * Local embedding throughput: `npm run bench:embedding [-- --threads 1,2,4 --texts 400]`.
 *
 * The offline MiniLM model runs in a pool of worker threads (REFLECT_EMBEDDING_THREADS). For each
 * pool size: texts/s for one batch of short texts, and for the same texts sent as concurrent
 * single-text requests (as many ingest jobs do), each as a ratio to the 1-thread figure measured
 * in the same run, with the CPU the threads used. Vectors are checked identical to 1 thread's.
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createLocalEmbedder } from '../src/embeddings/localEmbedder.js';
import { cpuUsed, loadAverage, log, progress, threadCpu } from './support.js';

const { values: args } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2,4' },
    texts: { type: 'string', default: '400' },
  },
});
const THREADS = args.threads!.split(',').map(Number);
const COUNT = Number(args.texts);
const TEMPLATES = ['Rotate the leaked API keys of the {} service', 'Debug a pod of the {} service stuck in CrashLoopBackOff', 'Summarise the email thread about the {} outage'];
const SERVICES = ['checkout', 'search', 'auth', 'billing', 'inventory', 'gateway', 'analytics'];
const texts = Array.from({ length: COUNT }, (_, i) => `${TEMPLATES[i % 3]!.replace('{}', SERVICES[i % 7]!)} (ticket ${i})`);

log(`# local embedding throughput — ${COUNT} short texts, node ${process.version}, ${availableParallelism()} CPUs, load average ${loadAverage()}`);
log('');
log('| threads | batch texts/s | ÷ 1 thread | concurrent single-text requests texts/s | ÷ 1 thread | CPU ms per text | threads used | vectors = 1 thread |');
log('|---|---|---|---|---|---|---|---|');
let reference: { batch: number; single: number; vectors: number[][] } | undefined;
for (const threads of THREADS) {
  progress(`${threads} thread(s)`);
  const embedder = await createLocalEmbedder({ threads });
  try {
    await Promise.all(texts.slice(0, threads * 4).map((t) => embedder.embed([`warm ${t}`]))); // start every thread
    const cpuBefore = threadCpu();
    let start = performance.now();
    const vectors = await embedder.embed(texts);
    const batch = (COUNT / (performance.now() - start)) * 1000;
    start = performance.now();
    await Promise.all(texts.map((t) => embedder.embed([t])));
    const single = (COUNT / (performance.now() - start)) * 1000;
    const cpu = cpuUsed(cpuBefore, threadCpu());
    reference ??= { batch, single, vectors };
    const same = vectors.every((v, i) => v.every((x, j) => x === reference!.vectors[i]![j]));
    log(
      `| ${threads} | ${batch.toFixed(1)} | ${(batch / reference.batch).toFixed(2)} | ${single.toFixed(1)} | ${(single / reference.single).toFixed(2)} | ${((cpu.main + cpu.others) / (2 * COUNT)).toFixed(1)} | ${embedder.threads().length} | ${same ? 'yes' : 'NO'} |`,
    );
  } finally {
    await embedder.close();
  }
}
log('');
log(`load average now: ${loadAverage()} (the machine is shared: other processes skew every figure)`);
