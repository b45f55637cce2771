/**
 * Long-text policy for the local MiniLM model, whose engine silently keeps only the first 256
 * tokens of an input. Rather than let the tail of a long memory vanish, a text longer than
 * LONG_TEXT_POLICY.windowWords words is cut into overlapping windows of that many words; each
 * window is embedded and the text's vector is the re-normalised mean of the window vectors.
 *
 * - 150 words stays under 256 tokens for ordinary prose (~1.3 tokens per word; measured: the
 *   engine starts truncating near 230 short English words). Denser text (code, ids) may still
 *   lose the end of a window, never the end of the text.
 * - Unbroken runs longer than `maxWordChars` (minified JSON, base64) are split so that they
 *   count as several words instead of hiding a whole blob inside one "word".
 * - The last window is aligned to the end of the text, so every window is full-size and gets
 *   equal weight in the mean.
 * - At most `maxWindows` windows, spread evenly over the text (full coverage up to ~3,900
 *   words), bound the cost of one huge text: a full window takes ~0.1-0.3 s on the engine.
 */
export const LONG_TEXT_POLICY = {
  windowWords: 150,
  overlapWords: 30,
  maxWordChars: 40,
  maxWindows: 32,
} as const;

const WORD_PIECES = new RegExp(`\\S{1,${LONG_TEXT_POLICY.maxWordChars}}`, 'gu');

/**
 * The pieces of text to embed for one input. Short texts come back untouched, as the only
 * element, so their vectors are exactly what the model gives for them.
 */
export function splitIntoWindows(text: string): string[] {
  const { windowWords, overlapWords, maxWindows } = LONG_TEXT_POLICY;
  const words = text.match(WORD_PIECES) ?? [];
  if (words.length <= windowWords) return [text];

  const step = windowWords - overlapWords;
  const starts: number[] = [];
  for (let start = 0; start + windowWords < words.length; start += step) starts.push(start);
  starts.push(words.length - windowWords);

  const chosen =
    starts.length <= maxWindows
      ? starts
      : Array.from({ length: maxWindows }, (_, i) => starts[Math.round((i * (starts.length - 1)) / (maxWindows - 1))]!);
  return chosen.map((start) => words.slice(start, start + windowWords).join(' '));
}
