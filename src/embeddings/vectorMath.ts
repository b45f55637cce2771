/** Scales a vector to length 1 so cosine similarity is a plain dot product downstream. */
export function toUnitLength(vector: readonly number[]): number[] {
  let sumOfSquares = 0;
  for (const x of vector) sumOfSquares += x * x;
  const norm = Math.sqrt(sumOfSquares);
  // A zero (or NaN) vector has no direction; storing it would poison every later cosine.
  if (!Number.isFinite(norm) || norm === 0) {
    throw new Error('cannot normalise an embedding with zero or non-finite length');
  }
  return vector.map((x) => x / norm);
}

/** The unit-length mean of same-length vectors: one direction that represents all of them. */
export function meanUnitVector(vectors: readonly (readonly number[])[]): number[] {
  const first = vectors[0];
  if (!first) throw new Error('cannot average zero vectors');
  const sum = new Array<number>(first.length).fill(0);
  for (const vector of vectors) {
    if (vector.length !== sum.length) throw new Error('cannot average vectors of different lengths');
    for (let i = 0; i < sum.length; i++) sum[i]! += vector[i]!;
  }
  return toUnitLength(sum);
}

/** Cosine similarity; 0 when either vector has no length. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
