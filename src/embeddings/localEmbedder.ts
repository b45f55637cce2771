import type { Embedder } from './embedder.js';
import { EmbeddingWorkerClient } from './embeddingWorkerClient.js';
import { splitIntoWindows } from './longTextWindows.js';
import { meanUnitVector } from './vectorMath.js';

export const LOCAL_MODEL_NAME = 'local:all-MiniLM-L6-v2';
export const LOCAL_DIMENSIONS = 384;

/**
 * all-MiniLM-L6-v2 running offline in a pool of worker threads (REFLECT_EMBEDDING_THREADS; the
 * model is bound to the thread that runs it, ~20 ms of CPU per short text). Texts past the
 * model's 256-token window are embedded window by window and averaged (see LONG_TEXT_POLICY in
 * longTextWindows.ts).
 */
export async function createLocalEmbedder(options: { threads?: number } = {}): Promise<Embedder & { threads(): { threadId: number | null; slices: number }[] }> {
  const worker = await EmbeddingWorkerClient.start(options.threads ?? 1);
  if (worker.dimensions !== LOCAL_DIMENSIONS) {
    await worker.close();
    throw new Error(`the local model produced ${worker.dimensions}-d vectors; expected ${LOCAL_DIMENSIONS}`);
  }
  return {
    model: LOCAL_MODEL_NAME,
    dimensions: LOCAL_DIMENSIONS,
    async embed(texts) {
      const windowsPerText = texts.map(splitIntoWindows);
      const windowVectors = await worker.embed(windowsPerText.flat());
      let offset = 0;
      return windowsPerText.map((windows) => {
        const vectors = windowVectors.slice(offset, (offset += windows.length));
        // Also re-normalises single-window texts, so every vector is unit length to the last bit.
        return meanUnitVector(vectors);
      });
    },
    close: () => worker.close(),
    threads: () => worker.threads(),
  };
}
