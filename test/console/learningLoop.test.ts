import { describe, expect, it } from 'vitest';
import { reviewed, useConsole, type PageGlobals } from './support.js';

// The loop a reviewer drives: a run arrives, is judged from the keyboard, becomes a memory at
// q 0.5; a later run that retrieved that memory passes, and the memory's Q chart gains a point.

describe('console: review from the keyboard and watch a memory learn', () => {
  const f = useConsole();
  let memoryId = '';

  it('signs in with an API key kept in session storage only', async () => {
    const { page } = await f.newPage();
    await page.goto('/');
    await page.waitForSelector('#api-key');
    await f.screenshot(page, 'sign-in');
    await page.fill('#api-key', 'rf_live_nope_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx');
    await page.click('button[type=submit]');
    await expect(page.locator('[role=alert]').textContent()).resolves.toContain('not accepted');
    await page.fill('#api-key', f.key);
    await page.click('button[type=submit]');
    await page.waitForSelector('nav.sidebar');
    expect(page.url()).not.toContain(f.key);
    expect(await page.evaluate(() => JSON.stringify((globalThis as unknown as PageGlobals).localStorage))).not.toContain(f.key.slice(-20));
    expect(await page.evaluate(() => Object.values((globalThis as unknown as PageGlobals).sessionStorage))).toContain(f.key);
    await expect(page.locator('.whoami code').textContent()).resolves.toBe(f.key.split('_').slice(0, 3).join('_'));
  });

  it('shows a trace created over the API in the queue and reviews it with two keys (p, Enter)', async () => {
    const created = await f.api('POST', '/v1/traces', {
      task: 'Count the orders placed in March',
      trajectory: [
        { role: 'user', content: 'How many orders were placed in March?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'sql', arguments: '{"q":"SELECT count(*) FROM orders"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: '1532' },
        { role: 'assistant', content: 'There were 1532 orders.' },
      ],
      model: 'gpt-test',
      metadata: { env: 'prod' },
    });
    expect(created.status).toBe(202);
    const id = created.json.id as string;

    const { page } = await f.newPage();
    await page.goto('/');
    await page.fill('#api-key', f.key);
    await page.click('button[type=submit]');
    await page.click('nav.sidebar >> text=Review queue');
    await page.waitForSelector('.review-bar');
    await expect(page.locator('.trace-main').textContent()).resolves.toContain('Count the orders placed in March');
    await page.keyboard.press('?');
    await page.waitForSelector('.keyhelp');
    await f.screenshot(page, 'review-keys');
    await page.keyboard.press('?');
    await page.waitForSelector('.keyhelp', { state: 'detached' });
    await f.screenshot(page, 'review-queue');

    await page.keyboard.press('p');
    await expect(page.locator('button.pass').getAttribute('aria-checked')).resolves.toBe('true');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.empty >> text=Nothing to review');

    const trace = await reviewed(f, id);
    expect(trace.review).toMatchObject({ result: 'pass' });
    expect(trace.review.reviewer).toMatchObject({ label: 'First-start key' });
    expect(trace.created_memory_id).toEqual(expect.any(String));
    memoryId = trace.created_memory_id;
  });

  it('lists the new memory at q 0.5', async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Memories');
    const row = page.locator(`tr[data-memory-id="${memoryId}"]`);
    await row.waitFor();
    await expect(row.locator('.qnum').textContent()).resolves.toBe('0.500');
    await f.screenshot(page, 'memories');

    // The real ranking: similarity, Q and the blended score, side by side.
    await page.fill('input[aria-label="Task to rank memories for"]', 'Count the orders placed in March');
    await page.click('.search-form button[type=submit]');
    const ranked = page.locator('.ranking tbody tr').first();
    await ranked.waitFor();
    await expect(ranked.textContent()).resolves.toContain('Count the orders placed in March');
    await expect(ranked.locator('td.num').first().textContent()).resolves.toBe('1.000');
    await expect(ranked.locator('td.num').last().textContent()).resolves.toBe('0.750');
    await f.screenshot(page, 'memory-ranking');
  });

  it('a second run that retrieved the memory passes (e, feedback, Enter) and its Q chart gains the point', async () => {
    const second = await f.api('POST', '/v1/traces', {
      task: 'Count the orders placed in April',
      trajectory: [
        { role: 'user', content: 'How many orders were placed in April?' },
        { role: 'assistant', content: 'SELECT count(*) FROM orders WHERE order_date >= 2026-04-01 AND order_date < 2026-05-01; 1410' },
      ],
      retrieved_memory_ids: [memoryId],
    });
    const id = second.json.id as string;
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.goto('/review');
    await page.waitForSelector('.review-bar');
    await expect(page.locator('.trace-main').textContent()).resolves.toContain('April');
    await expect(page.locator('.retrieved').textContent()).resolves.toContain(memoryId.slice(0, 8));
    await page.keyboard.press('p');
    await page.keyboard.press('e');
    await page.keyboard.type('Filtered on the date this time.');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.empty >> text=Nothing to review');
    const trace = await reviewed(f, id);
    expect(trace.review).toMatchObject({ result: 'pass', feedback_text: 'Filtered on the date this time.' });

    await page.goto(`/memories/${memoryId}`);
    await page.waitForSelector('.q-changes tbody tr a');
    // 0.5 + 0.3 · (1 − 0.5)
    await expect(page.locator('.memory-q .qnum').textContent()).resolves.toBe('0.650');
    await expect(page.locator('.q-history .chart-box').getAttribute('data-points')).resolves.toBe('2');
    await expect(page.locator('.q-history canvas').count()).resolves.toBeGreaterThan(0);
    await expect(page.locator('.q-changes tbody').textContent()).resolves.toContain('0.500 → 0.650');
    await f.screenshot(page, 'memory-q-history');
    await page.click(`.q-changes a[href="/traces/${id}"]`);
    await page.waitForSelector('.trace-view');
    await expect(page.locator('.reviewer').textContent()).resolves.toContain('First-start key');
    await f.screenshot(page, 'trace-reviewed');
  });

  it('shows a 409 clearly when someone else reviewed the open trace first', async () => {
    const created = await f.api('POST', '/v1/traces', { task: 'Refund an order twice', trajectory: 'The agent refunded order 17 twice.' });
    const id = created.json.id as string;
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.goto('/review');
    await page.waitForSelector('.review-bar');
    expect((await f.api('POST', `/v1/traces/${id}/review`, { result: 'fail' })).status).toBe(200);
    await page.keyboard.press('f');
    await page.keyboard.press('Enter');
    await page.waitForSelector('.conflict');
    await expect(page.locator('.conflict').textContent()).resolves.toContain('409');
    await f.screenshot(page, 'review-conflict');
  });

  it('moves through the queue with j and k, oldest first', async () => {
    const older = (await f.api('POST', '/v1/traces', { task: 'Queue order: the older run', trajectory: 'first' })).json.id as string;
    const newer = (await f.api('POST', '/v1/traces', { task: 'Queue order: the newer run', trajectory: 'second' })).json.id as string;
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.goto('/review');
    const task = page.locator('.trace-main .card .text').first();
    await expect.poll(() => task.textContent()).toBe('Queue order: the older run');
    await page.keyboard.press('j');
    await expect.poll(() => task.textContent()).toBe('Queue order: the newer run');
    await page.keyboard.press('k');
    await expect.poll(() => task.textContent()).toBe('Queue order: the older run');
    // Leave none pending for the tests after this one.
    for (const id of [older, newer]) expect((await f.api('POST', `/v1/traces/${id}/review`, { result: 'pass' })).status).toBe(200);
  });

  it('lets a master key switch between its projects', async () => {
    const res = await fetch(`${f.server.baseUrl}/v1/traces`, {
      method: 'POST',
      headers: { authorization: `Bearer ${f.key}`, 'x-project-id': 'support-bot', 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'Answer a billing question', trajectory: 'Explained the invoice.' }),
    });
    expect(res.status).toBe(202);
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Traces');
    await page.waitForSelector('.traces-table');
    expect(await page.locator('.traces-table').textContent()).not.toContain('Answer a billing question');
    await page.selectOption('#project-select', 'support-bot');
    await page.waitForSelector('.traces-table >> text=Answer a billing question');
    expect(await page.locator('.traces-table tbody tr').count()).toBe(1);
    await f.screenshot(page, 'project-switch');
  });
});
