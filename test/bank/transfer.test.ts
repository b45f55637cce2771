import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, eventually, type TestApp } from '../support/app.js';
import { createMemory, createTrace, llmEnv, uniqueTask, useLoopApp, waitForTrace } from '../support/learning.js';

// Export a project (memories with Q and history, an invalidated one, a mental model, a directive,
// a Skill) and import it into a fresh project of another database and of the same one: the same
// rows, the same query results, the history kept; a bad line writes nothing.

const f = useLoopApp('embedded');
const project = 'bank-source';
let other: { t: TestApp; key: string };
let bankText = '';
const ids: Record<string, string> = {};
const tasks = { learned: uniqueTask('Sum the March invoices'), invalid: uniqueTask('Use the legacy orders view'), refund: uniqueTask('Count the refunds') };

beforeAll(async () => {
  other = { t: await buildTestApp(llmEnv(f.fake)), key: '' };
  other.key = await other.t.masterKey('user-2', 'unused');
});
afterAll(async () => other?.t.close());

const lines = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

async function query(t: TestApp, key: string, p: string, q: string) {
  const res = await t.call(key, { method: 'POST', url: '/v1/memories/query', project: p, payload: { task: q, limit: 10, similarity_threshold: null } }); // the whole ranking, no relevance gate
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json();
  // The traces stay on the exporting server: an imported memory's source_trace_id is null (its
  // source_trace_ids keep the record), so the comparison leaves that one field out.
  return (body as Array<{ id: string; task: string; source_trace_id: string | null }>).map(({ source_trace_id: _s, ...rest }) => rest);
}

async function importText(t: TestApp, key: string, p: string, text: string) {
  return t.call(key, { method: 'POST', url: `/v1/projects/${p}/import`, headers: { 'content-type': 'application/x-ndjson' }, payload: text });
}

describe('bank export and import', () => {
  it('exports every part of a project as JSON Lines, header first', async () => {
    ids.learned = await createMemory(f, tasks.learned, project);
    ids.invalid = await createMemory(f, tasks.invalid, project);
    for (let i = 0; i < 5; i++) {
      const trace = await createTrace(
        f,
        { task: `${tasks.refund} ${i}`, trajectory: [{ role: 'assistant', content: 'done' }], retrieved_memory_ids: [ids.learned], review_result: i % 2 ? 'fail' : 'pass' },
        project,
      );
      expect((await waitForTrace(f, trace, undefined, project)).ingest_status).toBe('completed');
    }
    expect((await f.t.call(f.key, { method: 'POST', url: `/v1/memories/${ids.invalid}/invalidate`, project, payload: { reason: 'the view is gone' } })).statusCode).toBe(200);
    const mm = await f.t.call(f.key, { method: 'POST', url: `/v1/default/banks/${project}/mental-models`, payload: { name: 'Reports', source_query: 'How are reports made?' } });
    expect(mm.statusCode, mm.body).toBeLessThan(300);
    const dir = await f.t.call(f.key, { method: 'POST', url: `/v1/default/banks/${project}/directives`, payload: { name: 'Be brief', content: 'Answer in one line', priority: 3 } });
    expect(dir.statusCode, dir.body).toBeLessThan(300);
    const skill = await f.t.call(f.key, { method: 'POST', url: '/v1/skill', payload: {}, project });
    expect(skill.statusCode, skill.body).toBe(202);
    await eventually(async () => {
      const polled = (await f.t.call(f.key, { method: 'GET', url: '/v1/skill?version=1', project })).json();
      return polled.status === 'building' ? undefined : polled;
    });

    const res = await f.t.call(f.key, { method: 'GET', url: `/v1/projects/${project}/export` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toContain('application/x-ndjson');
    bankText = res.body;
    const all = lines(bankText);
    const header = all[0]!;
    expect(header).toMatchObject({ kind: 'header', format_version: 1, project, embedding_model: 'openai:text-embedding-3-small', dimensions: expect.any(Number) });
    expect(header.counts).toEqual({ memories: 7, history: 6, mental_models: 1, directives: 1, skills: 1 });
    const kinds = all.map((l) => l.kind);
    expect(kinds.filter((k) => k === 'memory')).toHaveLength(7);
    expect(kinds.filter((k) => k === 'q_update')).toHaveLength(5);
    expect(all.find((l) => l.kind === 'memory_event')).toMatchObject({ memory_id: ids.invalid, event: 'invalidate', detail: { reason: 'the view is gone' } });
    const invalid = all.find((l) => l.id === ids.invalid)!;
    expect(invalid).toMatchObject({ invalid_reason: 'the view is gone', invalidated_at: expect.any(String), fact_type: expect.any(String), evidence_count: 1 });
    expect((invalid.embedding as number[]).length).toBe(header.dimensions);
    const learned = all.find((l) => l.id === ids.learned)!;
    expect(learned.q_value).not.toBe(0.5);
  });

  it('imports into another database: the same rows, the same query results, the history kept', async () => {
    const res = await importText(other.t, other.key, 'copy', bankText);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ memories: 7, history: 6, mental_models: 1, directives: 1, skills: 1, reembedded: 0, new_ids: 0 });

    // Ids were free in the other database, so they are kept: the results compare as they are.
    let found = 0;
    for (const q of [tasks.learned, tasks.invalid, `${tasks.refund} 2`]) {
      const before = await query(f.t, f.key, project, q);
      const after = await query(other.t, other.key, 'copy', q);
      found += after.length;
      expect(after).toEqual(before);
    }
    expect(found).toBeGreaterThan(2);
    const history = (await other.t.call(other.key, { method: 'GET', url: `/v1/memories/${ids.learned}/history`, project: 'copy' })).json();
    const entries = (Array.isArray(history) ? history : history.history ?? history.entries) as Array<Record<string, unknown>>;
    const original = (await f.t.call(f.key, { method: 'GET', url: `/v1/memories/${ids.learned}/history`, project })).json();
    const originalEntries = (Array.isArray(original) ? original : original.history ?? original.entries) as Array<Record<string, unknown>>;
    expect(entries.map((e) => e.kind)).toEqual(originalEntries.map(() => 'imported_q_update'));
    expect(entries.map((e) => [e.q_before, e.q_after, e.reward, e.alpha, e.created_at])).toEqual(originalEntries.map((e) => [e.q_before, e.q_after, e.reward, e.alpha, e.created_at]));
    // Whose verdict each update applied travels with it (these reviews were sent over the API).
    expect(entries.map((e) => (e.detail as Record<string, unknown>).review_source)).toEqual(originalEntries.map(() => 'human'));
    const invalid = (await other.t.call(other.key, { method: 'GET', url: `/v1/memories/${ids.invalid}`, project: 'copy' })).json();
    expect(invalid).toMatchObject({ invalid_reason: 'the view is gone' });

    const mm = (await other.t.call(other.key, { method: 'GET', url: '/v1/default/banks/copy/mental-models' })).json();
    expect(JSON.stringify(mm)).toContain('How are reports made?');
    const dirs = (await other.t.call(other.key, { method: 'GET', url: '/v1/default/banks/copy/directives' })).json();
    expect(JSON.stringify(dirs)).toContain('Answer in one line');
    const skill = await other.t.call(other.key, { method: 'GET', url: '/v1/skill?version=1', project: 'copy' });
    expect(skill.statusCode).toBe(200);

    // Exporting the copy gives the same rows (history now as imported Q-updates).
    const again = lines((await other.t.call(other.key, { method: 'GET', url: '/v1/projects/copy/export' })).body);
    const rows = (all: Record<string, unknown>[]) => all.filter((l) => l.kind === 'memory').map(({ source_trace_id: _s, ...rest }) => rest);
    expect(rows(again)).toEqual(rows(lines(bankText)));

    // A second import into the now full project is refused.
    expect((await importText(other.t, other.key, 'copy', bankText)).statusCode).toBe(409);
  });

  it('imports into a fresh project of the same database with new ids, mapped consistently', async () => {
    const res = await importText(f.t, f.key, 'bank-copy', bankText);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ memories: 7, new_ids: 8 });
    const before = await query(f.t, f.key, project, tasks.learned);
    const after = await query(f.t, f.key, 'bank-copy', tasks.learned);
    expect(after.length).toBeGreaterThan(0);
    const strip = (rows: typeof before) => rows.map(({ id: _id, ...rest }) => JSON.stringify(rest));
    expect(strip(after)).toEqual(strip(before));
    expect(after.map((m) => m.id).some((id) => before.some((b) => b.id === id))).toBe(false);
    const copyOfLearned = after.find((m) => m.task === tasks.learned)!;
    const history = (await f.t.call(f.key, { method: 'GET', url: `/v1/memories/${copyOfLearned.id}/history`, project: 'bank-copy' })).json();
    expect(JSON.stringify(history)).toContain('imported_q_update');

    // The Skill's record of the memories it was built from names the copies.
    const { rows } = await f.t.app.database.pool.query(
      "select s.built_from, array(select id::text from memories where project_id = s.project_id) as ids from skills s join projects p on p.id = s.project_id where p.slug = 'bank-copy'",
    );
    const built = rows[0].built_from.memory_ids as { strategies: string[]; pitfalls: string[] };
    const skillIds = [...built.strategies, ...built.pitfalls];
    expect(skillIds.length).toBeGreaterThan(0);
    for (const id of skillIds) expect(rows[0].ids).toContain(id);
  });

  it('re-embeds vectors of another model than the target server’s, with the same results', async () => {
    const foreign = lines(bankText).map((l) =>
      l.kind === 'header'
        ? { ...l, embedding_model: 'other:model', dimensions: 3 }
        : 'embedding' in l
          ? { ...l, embedding: [1, 0, 0], embedding_model: 'other:model' }
          : l,
    );
    const res = await importText(other.t, other.key, 'foreign', foreign.map((l) => JSON.stringify(l)).join('\n'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ memories: 7, reembedded: 8 });
    const before = await query(f.t, f.key, project, tasks.learned);
    const after = await query(other.t, other.key, 'foreign', tasks.learned);
    expect(after.length).toBeGreaterThan(0);
    // The ids are taken here by the first copy, so these memories have new ones.
    const noId = (rows: typeof before) => rows.map(({ id: _id, ...rest }) => rest);
    expect(noId(after)).toEqual(noId(before));
  });

  it('refuses a bad line with 422 naming it, writing nothing', async () => {
    const all = bankText.split('\n');
    const memoriesBefore = await other.t.count('memories');
    const projectsBefore = await other.t.count('projects');
    const bad = [...all];
    bad[2] = JSON.stringify({ ...JSON.parse(all[2]!), q_value: 'high' });
    const res = await importText(other.t, other.key, 'bad-copy', bad.join('\n'));
    expect(res.statusCode).toBe(422);
    expect(res.json().detail[0]).toMatchObject({ loc: ['body', 3, 'q_value'], msg: expect.stringContaining('line 3') });

    const notJson = [...all];
    notJson[4] = '{"kind": "memory",';
    const res2 = await importText(other.t, other.key, 'bad-copy', notJson.join('\n'));
    expect(res2.statusCode).toBe(422);
    expect(res2.json().detail[0].loc).toEqual(['body', 5]);

    const cut = all.slice(0, 4).join('\n');
    const res3 = await importText(other.t, other.key, 'bad-copy', cut);
    expect(res3.statusCode).toBe(422);
    expect(JSON.stringify(res3.json())).toContain('cut short');

    const asJson = await other.t.call(other.key, { method: 'POST', url: '/v1/projects/bad-copy/import', payload: { kind: 'header' } });
    expect(asJson.statusCode).toBe(415);

    expect(await other.t.count('memories')).toBe(memoriesBefore);
    expect(await other.t.count('projects')).toBe(projectsBefore);
  });

  it('is for a master key only', async () => {
    const created = await f.t.call(f.key, { method: 'POST', url: '/v1/api-keys', project, payload: { label: 'reader', scopes: ['memories:read', 'memories:write'] } });
    expect(created.statusCode, created.body).toBeLessThan(300);
    const key = created.json().api_key as string;
    expect((await f.t.call(key, { method: 'GET', url: `/v1/projects/${project}/export` })).statusCode).toBe(403);
    expect((await importText(f.t, key, project, bankText)).statusCode).toBe(403);
  });
});
