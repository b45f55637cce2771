import { describe, expect, it } from 'vitest';
import { eventually } from '../support/app.js';
import { doneCitingFound, searchMemories } from '../reflect/support.js';
import { useConsole, type PageGlobals } from './support.js';

describe('console: bulk review, overview, Hindsight, LLM usage, keys', () => {
  const f = useConsole();

  it('fails three selected traces in one action, with a result per trace', async () => {
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const res = await f.api('POST', '/v1/traces', { task: `Bulk batch run ${n}: cancel the subscription`, trajectory: `Run ${n} cancelled the wrong plan.`, metadata: { batch: 'b1' } });
      ids.push(res.json.id);
    }
    await f.api('POST', '/v1/traces', { task: 'Unrelated run', trajectory: 'x', metadata: { batch: 'other' } });

    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Traces');
    await page.fill('label:has-text("Metadata key") input', 'batch');
    await page.fill('label:has-text("= value") input', 'b1');
    await page.click('.filters button[type=submit]');
    await eventually(async () => ((await page.locator('.traces-table tbody tr').count()) === 3 ? true : undefined));
    await page.check('input[aria-label="Select this page"]');
    await expect(page.locator('.bulkbar strong').textContent()).resolves.toBe('3 selected');
    await page.fill('.bulkbar input', 'Cancelled the wrong plan');
    await page.click('.bulkbar button.fail');
    await page.waitForSelector('.bulk-result');
    await expect(page.locator('.bulk-result').textContent()).resolves.toContain('3 review(s) queued');

    for (const id of ids) {
      const trace = await eventually(async () => {
        const res = await f.api('GET', `/v1/traces/${id}`);
        return res.json.review_status === 'reviewed' ? res.json : undefined;
      }, 30_000);
      expect(trace.review).toMatchObject({ result: 'fail', feedback_text: 'Cancelled the wrong plan' });
    }
    await page.click('.filters button[type=submit]');
    await eventually(async () => ((await page.locator('.traces-table .badge-reviewed').count()) === 3 ? true : undefined));
    await f.screenshot(page, 'bulk-fail');
  });

  it('shows the overview with counts and charts', async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.waitForSelector('.tiles');
    await page.locator('.tile', { hasText: 'Traces' }).locator('.tile-value', { hasText: /^4$/ }).waitFor();
    expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(5);
    await f.screenshot(page, 'overview');
  });

  it('adds and edits a directive, and the reflect playground shows the answer, cited memories and the agent steps', async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Hindsight');
    await page.fill('input[aria-label="Directive name"]', 'Check the plan');
    await page.fill('input[aria-label="Directive rule"]', 'Name the plan id before cancelling anything.');
    await page.click('form:has(input[aria-label="Directive name"]) button[type=submit]');
    await page.waitForSelector('.item >> text=Check the plan');
    await page.click('.item:has-text("Check the plan") >> text=Deactivate');
    await page.waitForSelector('.item.inactive >> text=Check the plan');

    f.fake.enqueue(searchMemories('cancel the subscription'), doneCitingFound('Name the plan id before cancelling the subscription.'));
    await page.fill('input[aria-label=Question]', 'What goes wrong when cancelling a subscription?');
    await page.click('button[type=submit]:has-text("Reflect")');
    await page.waitForSelector('.reflect-answer');
    await expect(page.locator('.reflect-answer').textContent()).resolves.toContain('Name the plan id');
    await expect(page.locator('.reflect-answer table').textContent()).resolves.toContain('search_memories');
    expect(await page.locator('.reflect-answer .retrieved li').count()).toBeGreaterThan(0);
    await f.screenshot(page, 'hindsight');
  });

  it('lists the LLM calls the reviews caused', async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=LLM usage');
    await page.waitForSelector('.table tbody tr');
    await expect(page.locator('.table tbody').textContent()).resolves.toContain('reflection');
    await f.screenshot(page, 'llm-usage');
  });

  it('creates a key (shown once), and a console signed in with it signs out when it is revoked', async () => {
    const admin = await f.newPage();
    await admin.signIn(f.key);
    await admin.page.click('nav.sidebar >> text=Keys');
    await admin.page.fill('input[aria-label=Label]', 'Second reviewer');
    await admin.page.click('.create-key button[type=submit]');
    const plaintext = await admin.page.locator('input[aria-label="New API key"]').inputValue();
    expect(plaintext).toMatch(/^rf_live_/);
    await admin.page.waitForSelector('tr:has-text("Second reviewer")');
    await f.screenshot(admin.page, 'keys-created');

    const reviewer = await f.newPage();
    await reviewer.signIn(plaintext);
    await reviewer.page.click('nav.sidebar >> text=Traces');
    await reviewer.page.waitForSelector('.traces-table, .empty');

    await admin.page.click('tr:has-text("Second reviewer") button.danger');
    await admin.page.waitForSelector('tr:has-text("Second reviewer") >> text=revoked');

    await reviewer.page.click('nav.sidebar >> text=Memories');
    await reviewer.page.waitForSelector('#api-key');
    await expect(reviewer.page.locator('.notice').textContent()).resolves.toContain('rejected');
    expect(await reviewer.page.evaluate(() => (globalThis as unknown as PageGlobals).sessionStorage.length)).toBe(0);
    await f.screenshot(reviewer.page, 'signed-out-after-revoke');
  });
});
