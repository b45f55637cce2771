import { describe, expect, it } from 'vitest';
import {
  MalformedReflectionError,
  ReflectionError,
  parseReflectionOutput,
} from '../../src/learning/reflectionOutput.js';

const complete = {
  reflection: 'Check the changelog before stating a release date.',
  summary: 'Failed: release date of 2.0',
  key_mistake: 'Guessed the month.',
  correct_action: 'Read the changelog entry.',
  guidance: 'Cite the source of dates.',
  applicable_tools: ['search_docs'],
  tools_used: ['search_docs', 'read_file'],
};

function malformed(text: string): MalformedReflectionError {
  try {
    parseReflectionOutput(text);
  } catch (error) {
    if (error instanceof MalformedReflectionError) return error;
    throw error;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe('parseReflectionOutput', () => {
  it('reads a complete answer', () => {
    expect(parseReflectionOutput(JSON.stringify(complete))).toEqual(complete);
  });

  it('reads JSON wrapped in a ```json fence with prose around it', () => {
    const text = `Here is the lesson:\n\`\`\`json\n${JSON.stringify(complete, null, 2)}\n\`\`\`\nHope it helps.`;
    expect(parseReflectionOutput(text)).toEqual(complete);
  });

  it('reads JSON after a short preamble without a fence', () => {
    expect(parseReflectionOutput(`Sure! ${JSON.stringify(complete)}`)).toEqual(complete);
  });

  it('defaults missing or null fields to empty strings and lists', () => {
    expect(parseReflectionOutput('{"reflection": "  Lesson.  ", "key_mistake": null, "tools_used": null}')).toEqual({
      reflection: 'Lesson.',
      summary: '',
      key_mistake: '',
      correct_action: '',
      guidance: '',
      applicable_tools: [],
      tools_used: [],
    });
  });

  it('turns a string given for a list into a one-element list', () => {
    const parsed = parseReflectionOutput('{"reflection": "r", "applicable_tools": "grep", "tools_used": ""}');
    expect(parsed.applicable_tools).toEqual(['grep']);
    expect(parsed.tools_used).toEqual([]);
  });

  it('drops empty and repeated tool names', () => {
    const parsed = parseReflectionOutput('{"reflection": "r", "tools_used": ["grep", " ", "grep", "ls"]}');
    expect(parsed.tools_used).toEqual(['grep', 'ls']);
  });

  it('drops NUL and replaces unpaired surrogates in every string, which PostgreSQL cannot store', () => {
    const answer = String.raw`{"reflection": "Check\u0000 the dates \ud800first", "summary": "s\u0000", "applicable_tools": ["sql\udc00"]}`;
    const parsed = parseReflectionOutput(answer);
    expect(parsed.reflection).toBe('Check the dates \ufffdfirst');
    expect(parsed.summary).toBe('s');
    expect(parsed.applicable_tools).toEqual(['sql\ufffd']);
  });

  it('rejects garbage, non-objects and answers without a reflection', () => {
    for (const text of ['', 'I cannot help with that.', '[1, 2]', '{"summary": "s"}', '{"reflection": "   "}', '{"reflection": "r", "tools_used": [1]}', '{"reflection": "r"']) {
      const error = malformed(text);
      expect(error).toBeInstanceOf(ReflectionError);
      expect(error.retryable).toBe(true);
    }
    expect(malformed('{"summary": "s"}').message).toContain('reflection');
  });
});
