import { describe, expect, it } from 'vitest';
import type { ReflectionInput } from '../../src/learning/reflection.js';
import { createTemplateReflector, toolNamesUsed } from '../../src/learning/templateReflector.js';
import type { Message } from '../../src/traces/trajectory.js';

const trajectory: Message[] = [
  { role: 'user', content: 'When was 2.0 released?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [
      { id: 'c1', type: 'function', function: { name: 'search_docs', arguments: '{"q":"2.0"}' } },
      { id: 'c2', type: 'function', function: { name: 'read_file', arguments: '{}' } },
    ],
  },
  { role: 'tool', tool_call_id: 'c1', name: 'search_docs', content: 'changelog' },
  { role: 'function', name: 'legacy_lookup', content: '...' },
  { role: 'assistant', content: 'March.', tool_calls: [{ function: { name: 'search_docs', arguments: '{}' } }] },
];

function input(overrides: Partial<ReflectionInput> = {}): ReflectionInput {
  return {
    task: 'Find the release date of version 2.0',
    trajectory,
    finalResponse: 'March.',
    result: 'fail',
    feedbackText: 'Wrong month: it was May',
    referenceContext: null,
    ...overrides,
  };
}

describe('template reflector', () => {
  const reflector = createTemplateReflector();

  it('builds a failure lesson from the task and the reviewer feedback', async () => {
    const reflection = await reflector.reflect(input());
    expect(reflection).toEqual({
      reflection:
        'Task: Find the release date of version 2.0. The run failed. Reviewer feedback: Wrong month: it was May. Next time: act on this feedback before answering.',
      summary: 'Failed: Find the release date of version 2.0',
      key_mistake: 'Wrong month: it was May',
      correct_action: 'Follow the reviewer feedback: Wrong month: it was May.',
      guidance: 'For tasks like "Find the release date of version 2.0", avoid this mistake: Wrong month: it was May.',
      applicable_tools: ['search_docs', 'read_file', 'legacy_lookup'],
      tools_used: ['search_docs', 'read_file', 'legacy_lookup'],
      source: 'template',
    });
  });

  it('falls back to the reference context when a failure has no feedback', async () => {
    const reflection = await reflector.reflect(
      input({ feedbackText: '  ', referenceContext: 'Changelog: 2.0 released in May' }),
    );
    expect(reflection.reflection).toContain('The reviewer gave no feedback.');
    expect(reflection.key_mistake).toBe('');
    expect(reflection.correct_action).toBe('Check the answer against the reference context: Changelog: 2.0 released in May.');
  });

  it('builds a success lesson that says to repeat the approach', async () => {
    const reflection = await reflector.reflect(input({ result: 'pass', feedbackText: null, trajectory: [] }));
    expect(reflection.reflection).toBe(
      'Task: Find the release date of version 2.0. The run passed. Next time: repeat the same approach.',
    );
    expect(reflection.summary).toBe('Passed: Find the release date of version 2.0');
    expect(reflection.key_mistake).toBe('');
    expect(reflection.tools_used).toEqual([]);
    expect(reflection.source).toBe('template');
  });

  it('mentions the tools a passing run used', async () => {
    const reflection = await reflector.reflect(input({ result: 'pass', feedbackText: 'Good sources' }));
    expect(reflection.reflection).toContain('Reviewer feedback: Good sources.');
    expect(reflection.correct_action).toBe('Repeat the approach that passed using search_docs, read_file, legacy_lookup.');
  });

  it('is deterministic and keeps long text bounded', async () => {
    const long = input({ task: 'word '.repeat(10_000), feedbackText: 'why '.repeat(10_000) });
    const first = await reflector.reflect(long);
    expect(await reflector.reflect(long)).toEqual(first);
    expect(first.reflection.length).toBeLessThan(1_500);
    expect(first.summary.length).toBeLessThan(150);
  });

  it('finds tool names in tool_calls, function_call and tool messages, each once', () => {
    expect(toolNamesUsed([{ role: 'assistant', function_call: { name: 'old_style', arguments: '{}' } }, ...trajectory])).toEqual([
      'old_style',
      'search_docs',
      'read_file',
      'legacy_lookup',
    ]);
    expect(toolNamesUsed([{ role: 'assistant', tool_calls: 'not a list' }])).toEqual([]);
  });
});
