/** Tags of a memory made from a trace: the trace's `metadata.tags`, when it is a list of strings. */
export function tagsOf(metadata: Record<string, unknown>): string[] {
  const tags = metadata.tags;
  if (typeof tags === 'string') return [tags];
  if (!Array.isArray(tags)) return [];
  return [...new Set(tags.filter((t): t is string => typeof t === 'string' && t.length > 0))];
}
