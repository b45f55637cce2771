import type { Message } from '../traces/trajectory.js';
import type { Reflection, ReflectionInput, Reflector } from './reflection.js';

/**
 * A reflector that needs no model: it restates the task, the outcome and the reviewer's
 * feedback as a lesson. Used when no LLM is configured; deterministic, so also easy to test.
 */
export function createTemplateReflector(): Reflector {
  return {
    async reflect(input: ReflectionInput): Promise<Reflection> {
      return templateReflection(input);
    },
  };
}

export function templateReflection(input: ReflectionInput): Reflection {
  const task = sentence(oneLine(input.task, 300) || 'No task text was given');
  const shortTask = oneLine(input.task, 120) || 'an untitled task';
  const feedback = input.feedbackText?.trim() ? oneLine(input.feedbackText, 1000) : null;
  const reference = input.referenceContext?.trim() ? oneLine(input.referenceContext, 500) : null;
  const tools = toolNamesUsed(input.trajectory);
  const withTools = tools.length > 0 ? ` using ${tools.join(', ')}` : '';

  if (input.result === 'pass') {
    return {
      reflection: [
        `Task: ${task}`,
        'The run passed.',
        feedback ? `Reviewer feedback: ${sentence(feedback)}` : '',
        `Next time: repeat the same approach${withTools}.`,
      ]
        .filter(Boolean)
        .join(' '),
      summary: `Passed: ${shortTask}`,
      key_mistake: '',
      correct_action: `Repeat the approach that passed${withTools}.`,
      guidance: `For tasks like "${shortTask}", repeat the approach that passed${feedback ? `; the reviewer noted: ${feedback}` : ''}.`,
      applicable_tools: tools,
      tools_used: tools,
      source: 'template',
    };
  }

  const correctAction = feedback
    ? `Follow the reviewer feedback: ${sentence(feedback)}`
    : reference
      ? `Check the answer against the reference context: ${sentence(reference)}`
      : '';
  const nextTime = feedback
    ? 'act on this feedback before answering.'
    : reference
      ? 'compare the answer with the reference context before answering.'
      : 'check the answer against what the task asks before answering.';
  return {
    reflection: [
      `Task: ${task}`,
      'The run failed.',
      feedback ? `Reviewer feedback: ${sentence(feedback)}` : 'The reviewer gave no feedback.',
      `Next time: ${nextTime}`,
    ].join(' '),
    summary: `Failed: ${shortTask}`,
    key_mistake: feedback ?? '',
    correct_action: correctAction,
    guidance: `For tasks like "${shortTask}", ${feedback ? `avoid this mistake: ${sentence(feedback)}` : nextTime}`,
    applicable_tools: tools,
    tools_used: tools,
    source: 'template',
  };
}

/** Names of the tools a trajectory called, in order of first use, each once. */
export function toolNamesUsed(trajectory: Message[]): string[] {
  const names: string[] = [];
  const add = (name: unknown) => {
    if (typeof name === 'string' && name.trim() && !names.includes(name.trim())) names.push(name.trim());
  };
  for (const message of trajectory) {
    if (Array.isArray(message.tool_calls)) {
      for (const call of message.tool_calls as unknown[]) {
        if (isRecord(call) && isRecord(call.function)) add(call.function.name);
      }
    }
    if (isRecord(message.function_call)) add(message.function_call.name);
    if (message.role === 'tool' || message.role === 'function') add(message.name);
  }
  return names;
}

/** Whitespace collapsed to single spaces and cut to `max` characters. */
function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

function sentence(text: string): string {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
