/**
 * One interface for every embedding backend. `model` names the vector space: vectors from
 * different models are never compared, so it is stored beside every vector.
 */
export interface Embedder {
  /** e.g. `local:all-MiniLM-L6-v2` or `openai:text-embedding-3-small`. */
  readonly model: string;
  readonly dimensions: number;
  /** One unit-length vector per text, in order. Never blocks the calling thread for long. */
  embed(texts: string[]): Promise<number[][]>;
  close(): Promise<void>;
}
