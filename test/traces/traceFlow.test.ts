import { describe, expect, it } from 'vitest';
import {
  chatRequestsAbout,
  createTrace,
  getMemory,
  getTrace,
  uniqueTask,
  useLoopApp,
  useSharedDatabase,
  userPrompt,
  waitForTrace,
} from '../support/learning.js';
import { transports } from '../support/redis.js';

const modelReflection = {
  reflection: 'Filter by the order date before counting; the count without it is for all months.',
  summary: 'Counted all orders instead of March only',
  key_mistake: 'No WHERE clause on order_date',
  correct_action: "Add WHERE order_date >= '2026-03-01' AND order_date < '2026-04-01'",
  guidance: 'Restrict aggregate queries to the period the question names.',
  applicable_tools: ['run_sql'],
  tools_used: ['run_sql', 'list_tables'],
};

const toolTrajectory = [
  { role: 'system', content: 'You answer questions with SQL.' },
  { role: 'user', content: 'How many orders were placed in March?' },
  {
    role: 'assistant',
    content: null,
    tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'run_sql', arguments: '{"q":"SELECT count(*) FROM orders"}' } }],
  },
  { role: 'tool', tool_call_id: 'call_1', name: 'run_sql', content: '1532' },
  { role: 'assistant', content: 'There were 1532 orders.' },
];

const database = useSharedDatabase();

describe.each(transports())('the SDK flow over HTTP ($transport)', ({ transport }) => {
  describe('with an LLM', () => {
    const f = useLoopApp(transport, { database });

    it('turns a reviewed trace into a memory holding exactly what the model wrote', async () => {
      const task = uniqueTask('Count the orders placed in March');
      f.fake.enqueue({ content: JSON.stringify(modelReflection) });
      const id = await createTrace(f, {
        task,
        trajectory: toolTrajectory,
        review_result: 'fail',
        feedback_text: 'Missed the WHERE clause on the order date',
        reference_context: 'orders.order_date is a timestamptz column',
        metadata: { tags: ['sql'], team: 'data' },
      });

      const trace = await waitForTrace(f, id);
      expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed', ingest_attempts: 1, last_ingest_error: null });
      expect(trace.review).toMatchObject({ result: 'fail', feedback_text: 'Missed the WHERE clause on the order date', alpha: 0.3 });
      expect(trace.final_response).toBe('There were 1532 orders.');
      expect(trace.trajectory).toEqual(toolTrajectory);

      const memory = await getMemory(f, trace.created_memory_id!);
      expect(memory).toMatchObject({
        ...modelReflection,
        task,
        q_value: 0.5,
        success: false,
        source_trace_id: id,
        metadata: { tags: ['sql'], team: 'data' },
        tags: ['sql'],
      });

      const [request, ...more] = chatRequestsAbout(f.fake, task);
      expect(more).toHaveLength(0);
      const prompt = userPrompt(request!);
      expect(prompt).toContain(task);
      expect(prompt).toContain('Missed the WHERE clause on the order date');
      expect(prompt).toContain('orders.order_date is a timestamptz column');
      expect(prompt).toContain('How many orders were placed in March?');
      expect(prompt).toContain('run_sql');
      expect(prompt).toContain('There were 1532 orders.');
      expect(prompt).toMatch(/<outcome>\s*fail\s*<\/outcome>/);
    });

    it.each([
      ['pass', true],
      ['success', true],
      ['fail', false],
      ['failure', false],
    ])('review_result %s → success %s', async (result, success) => {
      const task = uniqueTask(`Alias ${result}`);
      const id = await createTrace(f, { task, trajectory: [{ role: 'assistant', content: 'done' }], review_result: result });
      const trace = await waitForTrace(f, id);
      expect(trace.review?.result).toBe(success ? 'pass' : 'fail');
      expect(trace.review_status).toBe('reviewed');
      const memory = await getMemory(f, trace.created_memory_id!);
      expect(memory).toMatchObject({ q_value: 0.5, success, source_trace_id: id });
      // The default fake reply quotes the task and the outcome: the stored text came from the model.
      expect(memory.reflection).toContain(task);
      expect(memory.summary).toBe(`${success ? 'Passed' : 'Failed'}: ${task}`);
      expect(userPrompt(chatRequestsAbout(f.fake, task)[0]!)).toMatch(new RegExp(`<outcome>\\s*${success ? 'pass' : 'fail'}\\s*</outcome>`));
    });

    it('accepts the trajectory as a list, as a JSON string of a list, and as plain text', async () => {
      const list = [
        { role: 'user', content: 'hi', name: 'alice' },
        { role: 'assistant', content: [{ type: 'text', text: 'first' }] },
        { role: 'assistant', content: 'the end', extra: { kept: true } },
      ];
      const fromList = await getTrace(f, await createTrace(f, { task: uniqueTask('list'), trajectory: list }));
      expect(fromList.trajectory).toEqual(list);
      expect(fromList.final_response).toBe('the end');

      const fromJson = await getTrace(f, await createTrace(f, { task: uniqueTask('json'), trajectory: JSON.stringify(list) }));
      expect(fromJson.trajectory).toEqual(list);
      expect(fromJson.final_response).toBe('the end');

      const text = '[step 1] looked it up\n[step 2] answered 42';
      const fromText = await getTrace(f, await createTrace(f, { task: uniqueTask('text'), trajectory: text }));
      expect(fromText.trajectory).toEqual([{ role: 'summary', content: text }]);
      expect(fromText.final_response).toBe('');
    });

    it('takes final_response from the last assistant message only when it is omitted', async () => {
      const trajectory = [
        { role: 'assistant', content: 'draft' },
        { role: 'assistant', content: [{ type: 'text', text: 'part one' }, { type: 'text', text: 'part two' }] },
        { role: 'user', content: 'thanks' },
      ];
      const derived = await getTrace(f, await createTrace(f, { task: uniqueTask('derived'), trajectory }));
      expect(derived.final_response).toBe('part one\npart two');

      const given = await getTrace(f, await createTrace(f, { task: uniqueTask('given'), trajectory, final_response: 'explicit' }));
      expect(given.final_response).toBe('explicit');

      const none = await getTrace(f, await createTrace(f, { task: uniqueTask('none'), trajectory: [{ role: 'user', content: 'q' }] }));
      expect(none.final_response).toBe('');
    });

    it('records an unreviewed trace as completed and pending, then processes its deferred review', async () => {
      const task = uniqueTask('Deferred review');
      const id = await createTrace(f, { task, trajectory: [{ role: 'assistant', content: 'ok' }] });
      const before = await getTrace(f, id);
      expect(before).toMatchObject({ review_status: 'pending', ingest_status: 'completed', review: null, created_memory_id: null, ingest_attempts: 0 });
      expect(chatRequestsAbout(f.fake, task)).toHaveLength(0);

      const reviewed = await f.t.call(f.key, { method: 'POST', url: `/v1/traces/${id}/review`, payload: { result: 'success', feedback_text: 'good' } });
      expect(reviewed.statusCode).toBe(200);
      expect(reviewed.json()).toMatchObject({ id, review_status: 'pending', ingest_status: 'queued', review: { result: 'pass', feedback_text: 'good' } });

      const trace = await waitForTrace(f, id);
      expect(trace.ingest_status).toBe('completed');
      expect(await getMemory(f, trace.created_memory_id!)).toMatchObject({ success: true, q_value: 0.5 });
      expect(userPrompt(chatRequestsAbout(f.fake, task)[0]!)).toContain('good');
    });
  });

  describe('without OPENAI_API_KEY', () => {
    const f = useLoopApp(transport, { llm: false, database });

    it('writes a template reflection and still stores the memory', async () => {
      const task = uniqueTask('Summarise the incident report');
      const id = await createTrace(f, {
        task,
        trajectory: 'read the report, wrote three lines',
        review_result: 'failure',
        feedback_text: 'The summary left out the root cause',
      });
      const trace = await waitForTrace(f, id);
      expect(trace).toMatchObject({ review_status: 'reviewed', ingest_status: 'completed' });
      const memory = await getMemory(f, trace.created_memory_id!);
      expect(memory).toMatchObject({ task, q_value: 0.5, success: false, key_mistake: 'The summary left out the root cause', summary: `Failed: ${task}` });
      expect(memory.reflection).toContain('The run failed.');
      expect(memory.reflection).toContain('The summary left out the root cause');
      expect(f.fake.requests.filter((r) => r.path === '/v1/chat/completions')).toHaveLength(0);
    });
  });
});
