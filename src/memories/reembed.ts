import type pg from 'pg';
import type { Db } from '../db/client.js';
import { countMemoriesNotEmbeddedWith, memoriesNotEmbeddedWith, setMemoryEmbedding } from '../db/memories.js';
import { ensureVectorIndex } from '../db/vectorSearch.js';
import type { Embedder } from '../embeddings/embedder.js';

const BATCH = 64;

/**
 * Gives every memory (of one project, or all) a vector of the active model, so queries, which
 * never compare vectors of different models, see them again after a model change.
 */
export async function reembedMemories(
  deps: { db: Db; pool: pg.Pool; embedder: Embedder },
  options: { projectId?: string; onProgress?: (done: number, total: number) => void },
): Promise<number> {
  const { db, embedder } = deps;
  await ensureVectorIndex(deps.pool, embedder.model, embedder.dimensions);
  const total = await countMemoriesNotEmbeddedWith(db, embedder.model, options.projectId);
  let done = 0;
  options.onProgress?.(done, total);
  for (;;) {
    const batch = await memoriesNotEmbeddedWith(db, embedder.model, { projectId: options.projectId, limit: BATCH });
    if (batch.length === 0) break;
    const vectors = await embedder.embed(batch.map((m) => m.task));
    for (const [i, m] of batch.entries()) await setMemoryEmbedding(db, m.id, vectors[i]!, embedder.model);
    done += batch.length;
    options.onProgress?.(done, total);
  }
  return done;
}
