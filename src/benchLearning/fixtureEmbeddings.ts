/**
 * Fixture embeddings for the learning benchmark: a text carries its own vector as a tag,
 * `⟨fx 0:0.4472 3:0.8367 41:0.3162⟩` (sparse index:value pairs on orthogonal axes), so an
 * OpenAI-compatible fake can answer the server's real embedder with vectors whose cosines are
 * exactly what the scenario asks for, with no state shared between the processes.
 */

/** Length of every fixture vector: one global axis, one per cluster, the rest private axes. */
export const FIXTURE_DIMENSIONS = 512;

const TAG = /⟨fx ([^⟩]*)⟩/;

/** The tag for a sparse vector, to put into a text. */
export function fixtureTag(components: ReadonlyMap<number, number>): string {
  const parts = [...components].sort(([a], [b]) => a - b).map(([i, v]) => `${i}:${v.toFixed(6)}`);
  return `⟨fx ${parts.join(' ')}⟩`;
}

/** The unit vector a tagged text stands for, or undefined when the text carries no tag. */
export function fixtureVector(text: string, dimensions = FIXTURE_DIMENSIONS): number[] | undefined {
  const match = TAG.exec(text);
  if (!match) return undefined;
  const vector = new Array<number>(dimensions).fill(0);
  for (const part of match[1]!.trim().split(/\s+/)) {
    const [index, value] = part.split(':').map(Number);
    if (!Number.isInteger(index) || index! < 0 || index! >= dimensions || !Number.isFinite(value)) {
      throw new Error(`Fixture tag component "${part}" does not fit ${dimensions} dimensions`);
    }
    vector[index!] = value!;
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((v) => v / norm);
}

/**
 * Vectors with set cosines. A task paraphrase of cluster k is g·G + c·U_k + p·E_private and a
 * memory of that cluster g·G + a·U_k + r·F_private, so cos(task, memory) = g² + c·a exactly,
 * two paraphrases of a cluster meet at g² + c², and anything of another cluster at g².
 */
export class FixtureSpace {
  private nextPrivate: number;
  readonly c: number;
  readonly g: number;

  constructor(
    readonly clusters: number,
    /** Cosine between texts of different clusters (unrelated texts: MiniLM's median is 0.04). */
    readonly crossCluster = 0.1,
    /** Cosine between two paraphrases of one task. */
    readonly paraphrase = 0.9,
  ) {
    this.g = Math.sqrt(crossCluster);
    this.c = Math.sqrt(paraphrase - crossCluster);
    this.nextPrivate = 1 + clusters;
  }

  private privateAxis(): number {
    if (this.nextPrivate >= FIXTURE_DIMENSIONS) throw new Error(`More than ${FIXTURE_DIMENSIONS} fixture axes needed`);
    return this.nextPrivate++;
  }

  private vector(cluster: number, onCluster: number): Map<number, number> {
    const rest = 1 - this.g ** 2 - onCluster ** 2;
    if (rest < -1e-9) throw new Error(`Cosine out of reach for this geometry`);
    return new Map([
      [0, this.g],
      [1 + cluster, onCluster],
      [this.privateAxis(), Math.sqrt(Math.max(0, rest))],
    ]);
  }

  /** A task paraphrase's tag. */
  task(cluster: number): string {
    return fixtureTag(this.vector(cluster, this.c));
  }

  /** The tag of a memory whose cosine to every paraphrase of its cluster is `similarity`. */
  memory(cluster: number, similarity: number): string {
    return fixtureTag(this.vector(cluster, (similarity - this.g ** 2) / this.c));
  }
}
