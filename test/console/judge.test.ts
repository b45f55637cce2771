import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { judgeVerdict } from '../support/fakeOpenAI.js';
import { startServerProcess } from '../support/serverProcess.js';
import { reviewed, useConsole } from './support.js';

// The judge's loop in the console: switch it on with a rubric, runs arrive and are judged (the
// fake OpenAI server scripts the verdicts), a person confirms one verdict and overrides another
// from the trace page, and the overview shows the agreement and the disagreement.

describe('console: the judge, its overrides and how far it agrees with people', () => {
  const f = useConsole();
  const ids: Record<'march' | 'refund' | 'ticket' | 'dev', string> = { march: '', refund: '', ticket: '', dev: '' };

  /** A run sent by an agent; waits until the judge's verdict has been applied (or, unjudged, until it is stored). */
  async function run(name: keyof typeof ids, task: string, env: string, verdict?: 'pass' | 'fail', reason?: string, retrieved: string[] = []) {
    if (verdict) f.fake.enqueueJudge(judgeVerdict(verdict, reason));
    const created = await f.api('POST', '/v1/traces', { task, trajectory: `The agent worked on: ${task}`, metadata: { env }, retrieved_memory_ids: retrieved });
    expect(created.status).toBe(202);
    ids[name] = created.json.id;
    if (verdict) return reviewed(f, ids[name]);
    return (await f.api('GET', `/v1/traces/${ids[name]}`)).json;
  }

  it('switches the judge on with a rubric, an alpha and a metadata filter (a missing rubric is refused)', async () => {
    const { page, signIn, errors } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Judge');
    await page.waitForSelector('#judge-enabled');
    expect(await page.isChecked('#judge-enabled')).toBe(false);
    await page.check('#judge-enabled');
    await page.click('.judge-form button[type=submit]');
    await expect(page.locator('.judge-form [role=alert]').textContent()).resolves.toContain('rubric');
    expect((await f.api('GET', '/v1/projects/default/judge')).json.enabled).toBe(false);

    await page.fill('#judge-rubric', 'Pass only if the run did what the task asked, correctly and completely.');
    await page.fill('#judge-alpha', '0.2');
    await page.fill('#judge-filter', '{"env": "prod"}');
    await page.click('.judge-form button[type=submit]');
    await page.waitForSelector('.judge-form .notice >> text=New unreviewed traces are judged');
    await f.screenshot(page, 'judge-settings');
    expect((await f.api('GET', '/v1/projects/default/judge')).json).toMatchObject({
      enabled: true,
      rubric: 'Pass only if the run did what the task asked, correctly and completely.',
      alpha: 0.2,
      metadata_filter: { env: 'prod' },
      effective: { alpha: 0.2 },
    });
    expect(errors).toEqual([]);
  });

  it('judges the runs that match the filter on arrival; the list filters the judge-reviewed ones', async () => {
    const march = await run('march', 'Count the orders placed in March', 'prod', 'pass', 'Counted the March orders with the right date filter.');
    expect(march.review).toMatchObject({ source: 'judge', result: 'pass', alpha: 0.2 });
    // This run retrieved the March run's lesson: the judge's fail moves its Q (0.5 → 0.4 at α 0.2).
    const refund = await run('refund', 'Refund the duplicate charge on order 17', 'prod', 'fail', 'Refunded order 71 instead of 17.', [march.created_memory_id]);
    expect(refund.judge).toMatchObject({ status: 'judged', result: 'fail', reason: 'Refunded order 71 instead of 17.' });
    await run('ticket', 'Summarise support ticket 4411', 'prod', 'fail', 'The summary leaves out the customer’s question.');
    const dev = await run('dev', 'Try the new export in dev', 'dev');
    expect(dev.judge).toBeNull();

    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.goto('/traces?review_source=judge');
    await page.waitForSelector(`.traces-table tr[data-trace-id="${ids.march}"]`);
    expect(await page.locator('.filters label:has-text("Reviewed by") select').inputValue()).toBe('judge');
    const rows = page.locator('.traces-table tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    await expect(page.locator('.traces-table').textContent()).resolves.not.toContain('Try the new export in dev');
    await expect(page.locator(`tr[data-trace-id="${ids.refund}"] .badge-judge`).count()).resolves.toBe(1);
    await f.screenshot(page, 'judge-traces');
  });

  it("shows the judge's verdict and reason on the trace page; a person confirms one and overrides another", async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);

    await page.goto(`/traces/${ids.march}`);
    await page.waitForSelector('.judge-verdict');
    await expect(page.locator('.judge-verdict').textContent()).resolves.toContain('Counted the March orders with the right date filter.');
    await expect(page.locator('.judge-facts').textContent()).resolves.toContain('judged');
    await expect(page.locator('.reviewer').textContent()).resolves.toContain("the server's judge");
    await page.click('.judge-verdict button.confirm');
    await page.waitForSelector('.judge-verdict', { state: 'detached' });
    await expect(page.locator('.reviewer').textContent()).resolves.toContain('confirmed the judge');

    await page.goto(`/traces/${ids.refund}`);
    await page.waitForSelector('.judge-verdict');
    await expect(page.locator('.judge-reason').textContent()).resolves.toBe('Refunded order 71 instead of 17.');
    await f.screenshot(page, 'judge-trace-judged');
    await page.fill('#override-feedback', 'Order 17 was refunded; the judge misread the log.');
    await page.click('.judge-verdict button.override');
    await page.waitForSelector('.judge-verdict', { state: 'detached' });
    await expect(page.locator('.reviewer').textContent()).resolves.toContain('overrode the judge');
    // The changed verdict queued the lesson's rewrite; the page follows the trace until it is done, without a reload.
    await expect.poll(() => page.locator('.facts').innerText(), { timeout: 15_000 }).toMatch(/Ingest\s+completed/);
    // The judge's own verdict stays on the trace beside the human one.
    await expect(page.locator('.judge-reason').textContent()).resolves.toBe('Refunded order 71 instead of 17.');
    await f.screenshot(page, 'judge-trace-overridden');

    const refund = await reviewed(f, ids.refund);
    expect(refund.review).toMatchObject({ source: 'human', result: 'pass', feedback_text: 'Order 17 was refunded; the judge misread the log.', overridden_at: expect.any(String) });
    expect(refund.judge).toMatchObject({ result: 'fail' });
    expect((await f.api('POST', `/v1/traces/${ids.refund}/review`, { result: 'fail' })).status).toBe(409);

    // The lesson the refund run retrieved: the judge's fail (Q 0.5 → 0.4) was replaced by the human's pass (α 0.3 by default: 0.5 → 0.65).
    const march = (await f.api('GET', `/v1/traces/${ids.march}`)).json;
    await page.goto(`/memories/${march.created_memory_id}`);
    const update = page.locator('.q-changes tbody tr', { hasText: 'overrode the judge' });
    await update.waitFor();
    await expect(update.textContent()).resolves.toContain('0.500 → 0.650');
    await expect(page.locator('.q-history').textContent()).resolves.toContain("Q 0.400 → 0.650 (a human verdict replaced the judge's)");
    await f.screenshot(page, 'judge-memory-override');
    // The third verdict is confirmed by code, as an SDK would.
    expect((await f.api('POST', `/v1/traces/${ids.ticket}/review`, { result: 'fail' })).status).toBe(200);
    await reviewed(f, ids.march);
    await reviewed(f, ids.ticket);
  });

  it('the overview shows the agreement figures and the disagreement, linking to its trace', async () => {
    const { page, signIn, errors } = await f.newPage();
    await signIn(f.key);
    await page.waitForSelector('.judge-agreement .agreement-figures');
    const value = (key: string) => page.locator(`[data-figure="${key}"] .figure-value`).textContent();
    // Pairs: judge pass/human pass, judge fail/human pass, judge fail/human fail.
    // pₒ = 2/3; pₑ = (1/3)(2/3) + (2/3)(1/3) = 4/9; κ = (2/3 − 4/9)/(1 − 4/9) = 0.4
    await expect(value('judged')).resolves.toBe('3');
    await expect(value('pairs')).resolves.toBe('3');
    await expect(value('agreement')).resolves.toBe('67%');
    await expect(value('kappa')).resolves.toBe('0.40');
    await expect(value('precision')).resolves.toBe('1.00');
    await expect(value('recall')).resolves.toBe('0.50');
    await expect(value('f1')).resolves.toBe('0.67');
    const cell = (name: string) => page.locator(`.confusion [data-cell="${name}"]`).textContent();
    expect([await cell('pass-pass'), await cell('pass-fail'), await cell('fail-pass'), await cell('fail-fail')]).toEqual(['1', '0', '1', '1']);
    const rows = page.locator('.disagreements tbody tr');
    expect(await rows.count()).toBe(1);
    await expect(rows.first().textContent()).resolves.toContain('Order 17 was refunded; the judge misread the log.');
    await expect(rows.first().textContent()).resolves.toContain('Refunded order 71 instead of 17.');
    await f.screenshot(page, 'judge-overview-agreement');
    await rows.first().locator('a').click();
    await page.waitForURL(`**/traces/${ids.refund}`);
    await page.waitForSelector('.trace-view');

    // The Judge page shows the figures too, over a window of choice (all of these are recent).
    await page.click('nav.sidebar >> text=Judge');
    await page.selectOption('#agreement-days', '7');
    await expect.poll(() => value('pairs')).toBe('3');
    await expect(value('kappa')).resolves.toBe('0.40');
    expect(errors).toEqual([]);
  });

  it('offers to judge the runs that were waiting before it was switched on, and judges them', async () => {
    const { page, signIn, errors } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Judge');
    await page.waitForSelector('#judge-enabled');
    expect(await page.locator('#judge-backlog').count()).toBe(0);

    expect((await f.api('PATCH', '/v1/projects/default/judge', { enabled: false })).status).toBe(200);
    const waiting: string[] = [];
    for (const task of ['Reconcile the April invoices', 'Close ticket 5120']) {
      const created = await f.api('POST', '/v1/traces', { task, trajectory: `The agent worked on: ${task}`, metadata: { env: 'prod' } });
      expect(created.status).toBe(202);
      waiting.push(created.json.id);
    }
    expect((await f.api('PATCH', '/v1/projects/default/judge', { enabled: true })).json.backlog).toBe(2);

    await page.reload();
    await page.waitForSelector('#judge-backlog >> text=Judge the 2 unreviewed traces waiting');
    await f.screenshot(page, 'judge-backlog');
    await page.click('#judge-backlog');
    await expect(page.locator('.judge-backlog [role=status]').textContent()).resolves.toContain('Queued 2 unreviewed traces');
    expect(await page.locator('#judge-backlog').count()).toBe(0);
    for (const id of waiting) expect((await reviewed(f, id)).review).toMatchObject({ source: 'judge', result: 'pass' });
    expect((await f.api('GET', '/v1/projects/default/judge')).json.backlog).toBe(0);
    expect(errors).toEqual([]);
  });

  it('says plainly that a server without an LLM key cannot switch the judge on (400)', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-console-nokey-'));
    const server = await startServerProcess(['src/server.ts'], { REFLECT_DATA_DIR: dataDir });
    try {
      const key = await eventually(async () => server.firstKey);
      const context = await f.browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1360, height: 900 } });
      try {
        const page = await context.newPage();
        await page.goto('/');
        await page.fill('#api-key', key);
        await page.click('button[type=submit]');
        await page.waitForSelector('nav.sidebar');
        await page.goto('/judge');
        await page.check('#judge-enabled');
        await page.fill('#judge-rubric', 'Pass only correct answers.');
        await page.click('.judge-form button[type=submit]');
        const alert = page.locator('.llm-missing');
        await alert.waitFor();
        await expect(alert.textContent()).resolves.toContain('400');
        await expect(alert.textContent()).resolves.toContain('OPENAI_API_KEY');
        await f.screenshot(page, 'judge-no-llm-key');
      } finally {
        await context.close();
      }
    } finally {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
