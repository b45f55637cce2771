import { describe, expect, it } from 'vitest';
import { useLoopApp, useSharedDatabase, type LoopFixture } from '../support/learning.js';
import { RUBRIC } from './support.js';

const database = useSharedDatabase();

async function ensureProject(f: LoopFixture, slug: string): Promise<void> {
  const res = await f.t.call(f.key, { method: 'GET', url: '/v1/traces?limit=1', project: slug });
  expect(res.statusCode, res.body).toBe(200);
}

const get = (f: LoopFixture, slug: string) => f.t.call(f.key, { method: 'GET', url: `/v1/projects/${slug}/judge` });
const patch = (f: LoopFixture, slug: string, payload: unknown) =>
  f.t.call(f.key, { method: 'PATCH', url: `/v1/projects/${slug}/judge`, payload: payload as Record<string, unknown> });

async function stored(f: LoopFixture, slug: string) {
  const { rows } = await f.t.app.database.pool.query(
    'select judge_enabled, judge_rubric, judge_model, judge_alpha, judge_metadata_filter from projects where slug = $1',
    [slug],
  );
  return rows[0];
}

describe('judge settings with an LLM', () => {
  const f = useLoopApp('embedded', { database });

  it('starts off with the defaults, and a PATCH changes only what it names', async () => {
    await ensureProject(f, 'settings-a');
    const first = await get(f, 'settings-a');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      slug: 'settings-a',
      enabled: false,
      rubric: null,
      model: null,
      alpha: null,
      metadata_filter: null,
      effective: { model: f.t.config.llm.model, alpha: 0.1 },
    });

    const on = await patch(f, 'settings-a', { enabled: true, rubric: RUBRIC, model: 'judge-model', alpha: 0.25, metadata_filter: { env: 'prod' } });
    expect(on.statusCode, on.body).toBe(200);
    expect(on.json()).toMatchObject({
      enabled: true,
      rubric: RUBRIC,
      model: 'judge-model',
      alpha: 0.25,
      metadata_filter: { env: 'prod' },
      effective: { model: 'judge-model', alpha: 0.25 },
    });

    const back = await patch(f, 'settings-a', { model: null, alpha: null, metadata_filter: null });
    expect(back.json()).toMatchObject({ enabled: true, rubric: RUBRIC, model: null, alpha: null, metadata_filter: null, effective: { model: f.t.config.llm.model, alpha: 0.1 } });
    expect((await get(f, 'settings-a')).json()).toEqual(back.json());
  });

  it('refuses bad settings with a 422 and writes nothing', async () => {
    await ensureProject(f, 'settings-b');
    const before = await stored(f, 'settings-b');
    const cases: Array<[unknown, string]> = [
      [{}, ''],
      [{ alpha: 0 }, 'alpha'],
      [{ alpha: 1.5 }, 'alpha'],
      [{ enabled: 'yes' }, 'enabled'],
      [{ metadata_filter: ['env'] }, 'metadata_filter'],
      [{ model: '' }, 'model'],
      [{ rubric: 'x'.repeat(20_001) }, 'rubric'],
      // Switched on without a rubric, or with a blank one.
      [{ enabled: true }, 'rubric'],
      [{ enabled: true, rubric: '   ' }, 'rubric'],
    ];
    for (const [payload, field] of cases) {
      const res = await patch(f, 'settings-b', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(422);
      const detail = (res.json() as { detail: Array<{ loc: string[] }> }).detail;
      if (field) expect(detail.map((d) => d.loc.join('.'))).toContain(`body.${field}`);
    }
    expect(await stored(f, 'settings-b')).toEqual(before);

    // On with a rubric; then the rubric cannot be taken away while it is on.
    expect((await patch(f, 'settings-b', { enabled: true, rubric: RUBRIC })).statusCode).toBe(200);
    expect((await patch(f, 'settings-b', { rubric: null })).statusCode).toBe(422);
    expect((await stored(f, 'settings-b')).judge_rubric).toBe(RUBRIC);
    expect((await patch(f, 'settings-b', { enabled: false, rubric: null })).statusCode).toBe(200);
  });

  it('answers 404 for a project the key does not own', async () => {
    expect((await get(f, 'no-such-project')).statusCode).toBe(404);
    expect((await patch(f, 'no-such-project', { enabled: false })).statusCode).toBe(404);
  });
});

describe('judge settings without an LLM key', () => {
  const f = useLoopApp('embedded', { llm: false, database });

  it('switching the judge on is a 400 llm_not_configured that writes nothing', async () => {
    await ensureProject(f, 'settings-nollm');
    const before = await stored(f, 'settings-nollm');
    const res = await patch(f, 'settings-nollm', { enabled: true, rubric: RUBRIC, alpha: 0.2 });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'llm_not_configured' });
    expect(res.json().detail).toContain('OPENAI_API_KEY');
    expect(await stored(f, 'settings-nollm')).toEqual(before);
    // Anything else may still be set, to switch on once a key is given.
    const rubric = await patch(f, 'settings-nollm', { rubric: RUBRIC, enabled: false });
    expect(rubric.statusCode, rubric.body).toBe(200);
    expect(rubric.json()).toMatchObject({ enabled: false, rubric: RUBRIC });
  });
});
