import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Embedder } from '../../src/embeddings/embedder.js';
import { createLocalEmbedder } from '../../src/embeddings/localEmbedder.js';
import { LONG_TEXT_POLICY, splitIntoWindows } from '../../src/embeddings/longTextWindows.js';
import { meanUnitVector } from '../../src/embeddings/vectorMath.js';

const { windowWords, overlapWords, maxWindows } = LONG_TEXT_POLICY;
const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
const numberedWords = (count: number, prefix = 'w') => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('splitIntoWindows', () => {
  it('returns a text within the window unchanged', () => {
    const text = `  ${numberedWords(windowWords).join('\n')}  `;
    expect(splitIntoWindows(text)).toEqual([text]);
  });

  it('covers a long text with full, overlapping windows, the last one ending at the end', () => {
    const words = numberedWords(1000);
    const windows = splitIntoWindows(words.join(' ')).map((w) => w.split(' '));
    const step = windowWords - overlapWords;
    expect(windows.length).toBe(Math.ceil((1000 - windowWords) / step) + 1);
    for (const window of windows) expect(window).toHaveLength(windowWords);
    expect(windows[0]![0]).toBe('w0');
    expect(windows[1]![0]).toBe(`w${step}`);
    expect(windows.at(-1)!.at(-1)).toBe('w999');
    const covered = new Set(windows.flat());
    expect(covered.size).toBe(1000);
  });

  it('splits unbroken blobs so they count as several words', () => {
    const blob = 'x'.repeat(LONG_TEXT_POLICY.maxWordChars * 200);
    const windows = splitIntoWindows(blob);
    expect(windows.length).toBeGreaterThan(1);
    for (const window of windows) expect(window.split(' ')).toHaveLength(windowWords);
  });

  it('caps a huge text at maxWindows spread from its start to its end', () => {
    const words = numberedWords(200_000);
    const windows = splitIntoWindows(words.join(' '));
    expect(windows).toHaveLength(maxWindows);
    expect(windows[0]!.startsWith('w0 ')).toBe(true);
    expect(windows.at(-1)!.endsWith(' w199999')).toBe(true);
  });
});

describe('long texts through the local embedder', () => {
  // 300 words: well past the model's 256-token window, so truncation would see only this.
  const sharedStart = Array.from(
    { length: 30 },
    () => 'the agent deployed the web service to production and watched the error rate closely',
  )
    .join(' ')
    .split(' ')
    .slice(0, 300)
    .join(' ');
  const tail = (sentence: string) => Array.from({ length: 150 }, () => sentence).join(' ');
  const aboutCooking = `${sharedStart} ${tail('bake the bread with flour water yeast and salt in a hot oven')}`;
  const aboutSailing = `${sharedStart} ${tail('sail the small boat across the windy bay and then tie the rope')}`;

  let embedder: Embedder;
  let cooking: number[], sailing: number[], startOnly: number[], bread: number[];
  beforeAll(async () => {
    embedder = await createLocalEmbedder();
    [cooking, sailing, startOnly, bread] = (await embedder.embed([
      aboutCooking,
      aboutSailing,
      sharedStart,
      'baking bread in an oven',
    ])) as [number[], number[], number[], number[]];
  });
  afterAll(async () => {
    await embedder.close();
  });

  it('embeds 2,000-word texts without failing, as unit vectors', () => {
    expect(aboutCooking.split(' ').length).toBeGreaterThanOrEqual(2000);
    expect(aboutSailing.split(' ').length).toBeGreaterThanOrEqual(2000);
    for (const vector of [cooking, sailing]) {
      expect(vector).toHaveLength(384);
      expect(Math.sqrt(dot(vector, vector))).toBeCloseTo(1, 5);
    }
  });

  it('lets the end of a long text count, where truncation would make these three identical', () => {
    // Truncating at 256 tokens would leave only (part of) sharedStart of each: cosine 1 for all.
    expect(dot(cooking, sailing)).toBeLessThan(0.95);
    expect(dot(cooking, startOnly)).toBeLessThan(0.95);
    expect(dot(cooking, bread)).toBeGreaterThan(dot(sailing, bread));
  });

  it('is the re-normalised mean of its windows embedded one by one', async () => {
    const windowVectors = await embedder.embed(splitIntoWindows(aboutSailing));
    expect(dot(sailing, meanUnitVector(windowVectors))).toBeCloseTo(1, 5);
  });
});
