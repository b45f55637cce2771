import type OpenAI from 'openai';
import { withEmbeddingCache } from './cachedEmbedder.js';
import type { Embedder } from './embedder.js';
import { createLocalEmbedder, LOCAL_DIMENSIONS } from './localEmbedder.js';
import { createOpenAIEmbedder } from './openaiEmbedder.js';

export type { Embedder } from './embedder.js';

export interface EmbeddingConfig {
  provider: 'local' | 'openai';
  model?: string;
  dimensions?: number;
  cacheSize: number;
  /** Threads of the local embedder (default 1). */
  threads?: number;
}

export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';

/** Spellings of the one model the local provider ships, compared case-insensitively. */
const LOCAL_MODEL_ALIASES = ['all-minilm-l6-v2', 'local:all-minilm-l6-v2', 'sentence-transformers/all-minilm-l6-v2'];

/** Builds the configured embedder, wrapped in the vector cache. */
export async function createEmbedder(cfg: EmbeddingConfig, openai?: OpenAI): Promise<Embedder> {
  const embedder = cfg.provider === 'local' ? await createLocal(cfg) : await createOpenAI(cfg, openai);
  return withEmbeddingCache(embedder, cfg.cacheSize);
}

function createLocal(cfg: EmbeddingConfig): Promise<Embedder> {
  if (cfg.model !== undefined && !LOCAL_MODEL_ALIASES.includes(cfg.model.toLowerCase())) {
    throw new Error(
      `REFLECT_EMBEDDING_MODEL=${cfg.model} is not available offline: the local provider ships only ` +
        'all-MiniLM-L6-v2. Unset REFLECT_EMBEDDING_MODEL, or set REFLECT_EMBEDDING_PROVIDER=openai.',
    );
  }
  if (cfg.dimensions !== undefined && cfg.dimensions !== LOCAL_DIMENSIONS) {
    throw new Error(
      `REFLECT_EMBEDDING_DIMENSIONS=${cfg.dimensions} does not fit the local model, which makes ` +
        `${LOCAL_DIMENSIONS}-d vectors. Unset REFLECT_EMBEDDING_DIMENSIONS or set it to ${LOCAL_DIMENSIONS}.`,
    );
  }
  return createLocalEmbedder({ threads: cfg.threads ?? 1 });
}

function createOpenAI(cfg: EmbeddingConfig, openai: OpenAI | undefined): Promise<Embedder> {
  if (!openai) {
    throw new Error('REFLECT_EMBEDDING_PROVIDER=openai needs OPENAI_API_KEY to be set.');
  }
  return createOpenAIEmbedder({
    client: openai,
    model: cfg.model ?? DEFAULT_OPENAI_EMBEDDING_MODEL,
    ...(cfg.dimensions === undefined ? {} : { dimensions: cfg.dimensions }),
  });
}
