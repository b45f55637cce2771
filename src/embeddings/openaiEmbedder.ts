import OpenAI from 'openai';
import type { Embedder } from './embedder.js';
import { toUnitLength } from './vectorMath.js';

/** The embeddings endpoint accepts at most this many inputs per request. */
export const OPENAI_MAX_INPUTS_PER_REQUEST = 2048;

export interface OpenAIEmbedderOptions {
  client: OpenAI;
  model: string;
  /** Sent to the API (text-embedding-3-* can shorten vectors). Unset: learned by one probe call. */
  dimensions?: number;
}

/** An embeddings call that failed; `status` is the HTTP status when the server answered. */
export class EmbeddingRequestError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'EmbeddingRequestError';
  }
}

export async function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Promise<Embedder> {
  const { client, model } = options;
  const requested = options.dimensions;

  async function embedBatch(texts: string[], expectedDimensions: number | undefined): Promise<number[][]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await client.embeddings.create({
        model,
        input: texts,
        ...(requested === undefined ? {} : { dimensions: requested }),
        // Floats, not the SDK's default base64: OpenAI-compatible servers behind OPENAI_BASE_URL
        // often ignore encoding_format, and the SDK would then decode their floats as garbage.
        encoding_format: 'float',
      });
    } catch (error) {
      throw describeFailure(error, client.apiKey, model, texts.length);
    }
    const byIndex = [...response.data].sort((a, b) => a.index - b.index);
    if (byIndex.length !== texts.length) {
      throw new EmbeddingRequestError(
        `OpenAI embeddings (${model}) returned ${byIndex.length} vectors for ${texts.length} texts`,
        undefined,
      );
    }
    return byIndex.map(({ embedding }) => {
      if (expectedDimensions !== undefined && embedding.length !== expectedDimensions) {
        throw new EmbeddingRequestError(
          `OpenAI embeddings (${model}) returned ${embedding.length}-d vectors; expected ${expectedDimensions}`,
          undefined,
        );
      }
      return toUnitLength(embedding);
    });
  }

  const dimensions = requested ?? (await embedBatch(['dimension probe'], undefined))[0]!.length;

  return {
    model: `openai:${model}`,
    dimensions,
    async embed(texts) {
      const vectors: number[][] = [];
      // One batch at a time: gentler on rate limits than firing every batch at once.
      for (let start = 0; start < texts.length; start += OPENAI_MAX_INPUTS_PER_REQUEST) {
        const batch = texts.slice(start, start + OPENAI_MAX_INPUTS_PER_REQUEST);
        vectors.push(...(await embedBatch(batch, dimensions)));
      }
      return vectors;
    },
    // The OpenAI client is shared and owned by the caller; there is nothing of ours to release.
    close: async () => undefined,
  };
}

/** A clear message without the key, even if the server echoed it back in its error body. */
function describeFailure(error: unknown, apiKey: string | null, model: string, count: number): EmbeddingRequestError {
  const status = error instanceof OpenAI.APIError ? error.status : undefined;
  let detail = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
  if (cause && !detail.includes(cause)) detail += ` (${cause})`;
  const safe = redactSecrets(detail, apiKey);
  const message = `OpenAI embeddings request failed (model ${model}, ${count} texts): ${safe}`;
  return new EmbeddingRequestError(message, status);
}

function redactSecrets(text: string, apiKey: string | null): string {
  const withoutKey = apiKey ? text.split(apiKey).join('[redacted]') : text;
  // Also hide anything shaped like an OpenAI key (e.g. a different or partially masked one).
  return withoutKey.replace(/sk-[A-Za-z0-9_*-]{6,}/g, 'sk-[redacted]');
}
