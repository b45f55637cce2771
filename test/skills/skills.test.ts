import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { splitFrontMatter } from '../../src/skills/guide.js';
import { eventually } from '../support/app.js';
import { defaultChat, type ChatRequestBody, type ScriptedReply } from '../support/fakeOpenAI.js';
import { createTrace, uniqueTask, useLoopApp, useSharedDatabase, userPrompt, waitForTrace, type LoopFixture } from '../support/learning.js';

// A project's Skill: built in the background from its best reviewed memories (passed runs →
// proven strategies, failed runs → pitfalls, highest Q first, invalid and expired ones left
// out), versioned, served as JSON (get_skill) and as a Markdown file.

let guides = 0;
function chat(body: ChatRequestBody): ScriptedReply {
  const system = body.messages?.find((m) => m.role === 'system')?.content;
  if (typeof system === 'string' && system.startsWith('You write a Skill')) {
    guides += 1;
    return { content: `---\ndescription: "Use it for order reports: dates, totals: all of it"\n---\n# Order reports\n\nGuide body number ${guides}.` };
  }
  return defaultChat(body);
}

async function reviewedMemory(f: LoopFixture, project: string, task: string, result: 'pass' | 'fail', q: number): Promise<string> {
  const id = await createTrace(f, { task, trajectory: [{ role: 'assistant', content: 'done' }], review_result: result }, project);
  const trace = await waitForTrace(f, id, undefined, project);
  expect(trace.ingest_status).toBe('completed');
  await f.t.app.database.pool.query('update memories set q_value = $1 where id = $2', [q, trace.created_memory_id]);
  return trace.created_memory_id!;
}

async function build(f: LoopFixture, project: string, body: Record<string, unknown> = {}) {
  const res = await f.t.call(f.key, { method: 'POST', url: '/v1/skill', payload: body, project });
  expect(res.statusCode, res.body).toBe(202);
  const started = res.json();
  expect(started.status).toBe('building');
  return eventually(async () => {
    const polled = (await f.t.call(f.key, { method: 'GET', url: `/v1/skill?version=${started.version}`, project })).json();
    return polled.status === 'building' ? undefined : polled;
  });
}

const database = useSharedDatabase();

describe('Skills with an LLM', () => {
  const f = useLoopApp('embedded', { database, fake: { chat } });
  const project = 'skills-llm';
  const tasks = {
    strategyHigh: uniqueTask('Sum the March invoices'),
    strategyLow: uniqueTask('List the open orders'),
    strategyMid: uniqueTask('Count the refunds'),
    pitfallHigh: uniqueTask('Join the customers table'),
    pitfallLow: uniqueTask('Filter by the order date'),
    invalid: uniqueTask('Use the legacy orders view'),
    expired: uniqueTask('Read the Q3 price list'),
  };

  it('answers 409 below 5 reviewed memories, with a clear message', async () => {
    await reviewedMemory(f, project, tasks.strategyHigh, 'pass', 0.9);
    const res = await f.t.call(f.key, { method: 'POST', url: '/v1/skill', payload: {}, project });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      code: 'not_enough_memories',
      detail: 'A Skill is built from reviewed memories: this project has 1, it needs at least 5. Review more traces first.',
    });
    expect((await f.t.call(f.key, { method: 'GET', url: '/v1/skill', project })).statusCode).toBe(404);
  });

  it('builds version 1 from the best memories, split by outcome, highest Q first, without invalid or expired ones', async () => {
    await reviewedMemory(f, project, tasks.strategyLow, 'pass', 0.2);
    await reviewedMemory(f, project, tasks.strategyMid, 'pass', 0.6);
    await reviewedMemory(f, project, tasks.pitfallLow, 'fail', 0.3);
    await reviewedMemory(f, project, tasks.pitfallHigh, 'fail', 0.7);
    const invalid = await reviewedMemory(f, project, tasks.invalid, 'pass', 1);
    const expired = await reviewedMemory(f, project, tasks.expired, 'fail', 1);
    await f.t.call(f.key, { method: 'POST', url: `/v1/memories/${invalid}/invalidate`, payload: { reason: 'view dropped' }, project });
    await f.t.call(f.key, { method: 'PATCH', url: `/v1/memories/${expired}`, payload: { expires_at: '2020-01-01T00:00:00Z' }, project });

    const skill = await build(f, project);
    expect(skill).toMatchObject({ version: 1, status: 'ready', name: project, source: 'llm', error: null, description: 'Use it for order reports: dates, totals: all of it' });
    expect(skill.built_from).toMatchObject({ strategies: 3, pitfalls: 2, runs: 5 });

    // What the LLM was shown: strategies and pitfalls in their own blocks, highest Q first.
    const prompt = userPrompt(f.fake.requests.filter((r) => r.path === '/v1/chat/completions' && userPrompt(r).includes('<proven_strategies>')).at(-1)!);
    const strategies = prompt.slice(prompt.indexOf('<proven_strategies>'), prompt.indexOf('</proven_strategies>'));
    const pitfalls = prompt.slice(prompt.indexOf('<pitfalls>'), prompt.indexOf('</pitfalls>'));
    const order = (block: string, names: string[]) => names.map((n) => block.indexOf(n));
    expect(order(strategies, [tasks.strategyHigh, tasks.strategyMid, tasks.strategyLow]).every((i, k, a) => i >= 0 && (k === 0 || i > a[k - 1]!))).toBe(true);
    expect(order(pitfalls, [tasks.pitfallHigh, tasks.pitfallLow]).every((i, k, a) => i >= 0 && (k === 0 || i > a[k - 1]!))).toBe(true);
    expect(strategies).not.toContain(tasks.pitfallHigh);
    expect(prompt).not.toContain(tasks.invalid);
    expect(prompt).not.toContain(tasks.expired);

    // The stored guide is the LLM's text under a front-matter the yaml library reads back.
    const { front, body } = splitFrontMatter(skill.markdown);
    expect(body.trim()).toBe(`# Order reports\n\nGuide body number ${guides}.`);
    expect(front).toEqual({
      name: project,
      description: 'Use it for order reports: dates, totals: all of it',
      version: 1,
      built_from: { strategies: 3, pitfalls: 2, runs: 5 },
    });
    expect(YAML.parse(skill.markdown.split('---')[1]!)).toEqual(front);
    // Its LLM call is in the usage log as the project's Skill build.
    await eventually(async () => {
      const { rows } = await f.t.app.database.pool.query(
        "select c.outcome from llm_calls c join projects p on p.id = c.project_id where c.purpose = 'skill_build' and p.slug = $1",
        [project],
      );
      return rows.length === 1 && rows[0].outcome === 'ok' ? true : undefined;
    });
  });

  it('refining builds a new version from the previous one; versions are kept, listed, and served as JSON or Markdown', async () => {
    const v2 = await build(f, project, { instructions: 'Shorter, please' });
    expect(v2).toMatchObject({ version: 2, status: 'ready', instructions: 'Shorter, please', requested_by: { label: 'test' } });
    const prompt = userPrompt(f.fake.requests.filter((r) => r.path === '/v1/chat/completions' && userPrompt(r).includes('<previous_version')).at(-1)!);
    expect(prompt).toContain('<previous_version version="1">');
    expect(prompt).toContain('Shorter, please');

    const latest = (await f.t.call(f.key, { method: 'GET', url: '/v1/skill', project })).json();
    expect(latest).toMatchObject({ version: 2, markdown: v2.markdown });
    expect(splitFrontMatter(latest.markdown).front.version).toBe(2);
    const first = (await f.t.call(f.key, { method: 'GET', url: '/v1/skill?version=1', project })).json();
    expect(first.version).toBe(1);
    expect(first.markdown).not.toBe(v2.markdown);

    const versions = (await f.t.call(f.key, { method: 'GET', url: '/v1/skill/versions', project })).json();
    expect(versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    const md = await f.t.call(f.key, { method: 'GET', url: '/v1/skill.md', project });
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.headers['content-disposition']).toBe(`attachment; filename="${project}-skill-v2.md"`);
    expect(md.body).toBe(v2.markdown);
    expect((await f.t.call(f.key, { method: 'GET', url: '/v1/skill.md?version=1', project })).body).toBe(first.markdown);
    expect((await f.t.call(f.key, { method: 'GET', url: '/v1/skill?version=9', project })).statusCode).toBe(404);
    expect((await f.t.call(f.key, { method: 'GET', url: '/v1/skill?version=0', project })).statusCode).toBe(422);
  });

  it('a failed LLM call leaves a failed version with its error; the next build takes the next version', async () => {
    f.fake.enqueue({ status: 400, body: { error: { message: 'bad request', type: 'invalid_request_error' } } });
    const failed = await build(f, project);
    expect(failed).toMatchObject({ version: 3, status: 'failed', markdown: '' });
    expect(failed.error).toMatch(/HTTP 400/);
    expect((await f.t.call(f.key, { method: 'GET', url: '/v1/skill', project })).json().version).toBe(2);
    expect((await build(f, project)).version).toBe(4);
  });
});

describe('Skills without an LLM key', () => {
  const f = useLoopApp('embedded', { database, llm: false });

  it('builds a template guide from the same memories', async () => {
    const project = 'skills-template';
    const pass = [uniqueTask('Deploy the API'), uniqueTask('Tag the release'), uniqueTask('Warm the cache')];
    const fail = [uniqueTask('Migrate the schema'), uniqueTask('Rotate the secrets')];
    for (const [i, task] of pass.entries()) await reviewedMemory(f, project, task, 'pass', 0.5 + i * 0.1);
    for (const [i, task] of fail.entries()) await reviewedMemory(f, project, task, 'fail', 0.5 + i * 0.1);

    const skill = await build(f, project);
    expect(skill).toMatchObject({ version: 1, status: 'ready', source: 'template', built_from: { strategies: 3, pitfalls: 2, runs: 5 } });
    const { front, body } = splitFrontMatter(skill.markdown);
    expect(front).toMatchObject({ name: project, version: 1, built_from: { strategies: 3, pitfalls: 2, runs: 5 } });
    const strategies = body.slice(body.indexOf('## Proven strategies'), body.indexOf('## Pitfalls to avoid'));
    const pitfalls = body.slice(body.indexOf('## Pitfalls to avoid'));
    // Highest Q first: the last created of each kind was given the highest Q.
    expect(strategies.indexOf(pass[2]!)).toBeLessThan(strategies.indexOf(pass[1]!));
    expect(strategies.indexOf(pass[1]!)).toBeLessThan(strategies.indexOf(pass[0]!));
    expect(pitfalls.indexOf(fail[1]!)).toBeLessThan(pitfalls.indexOf(fail[0]!));
    expect(strategies).not.toContain(fail[0]!);
  });
});
