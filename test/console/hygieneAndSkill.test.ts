import { describe, expect, it } from 'vitest';
import { reviewed, useConsole } from './support.js';

// A wrong memory is invalidated from its page (and restored), and the project's Skill is built
// and refined from the Skill page.

describe('console: memory state and the Skill', () => {
  const f = useConsole();

  it('invalidates a memory with a reason, shows its state and history, and restores it', async () => {
    const created = await f.api('POST', '/v1/memories', { task: 'Count the orders of March', reflection: 'Use the orders_v1 view.' });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.goto(`/memories/${id}`);
    await page.waitForSelector('.invalidate-reason input');
    await page.fill('.invalidate-reason input', 'orders_v1 was dropped');
    await page.click('button.validity');
    await page.waitForSelector('button.validity >> text=Restore');
    // The state and the history reload separately after the change: wait for each to show it.
    await page.locator('.facts', { hasText: 'orders_v1 was dropped' }).waitFor();
    await page.locator('.q-history', { hasText: 'invalidate' }).waitFor();
    await f.screenshot(page, 'memory-invalidated');
    expect((await f.api('GET', `/v1/memories/${id}`)).json).toMatchObject({ state: 'invalid', invalid_reason: 'orders_v1 was dropped' });

    await page.click('button.validity');
    await page.waitForSelector('button.validity >> text=Invalidate');
    expect((await f.api('GET', `/v1/memories/${id}`)).json.state).toBe('active');
  });

  it('builds the Skill, shows its Markdown and versions, and refines it', async () => {
    const { page, signIn } = await f.newPage();
    await signIn(f.key);
    await page.click('nav.sidebar >> text=Skill');
    await page.click('button >> text=Build the Skill');
    await page.locator('[role=alert]', { hasText: 'needs at least 5' }).waitFor();

    for (let i = 0; i < 5; i++) {
      const trace = await f.api('POST', '/v1/traces', { task: `Console skill task ${i} ${'xyz'.repeat(i)}`, trajectory: [], final_response: 'ok', review_result: i % 2 ? 'fail' : 'pass' });
      expect(trace.status).toBe(202);
      await reviewed(f, trace.json.id as string);
    }
    await page.click('button >> text=Build the Skill');
    await page.waitForSelector('.skill-markdown');
    await expect(page.locator('.skill-markdown').textContent()).resolves.toMatch(/^---\nname: default\n/);
    await page.fill('input[placeholder="Shorter; group by tool"]', 'Shorter');
    await page.click('button >> text=Refine');
    await page.waitForSelector('.skill-versions tr >> text=v2');
    await page.waitForSelector('.card-title >> text=v2');
    // The page still shows version 1's Markdown until version 2's has loaded.
    await page.locator('.skill-markdown', { hasText: 'version: 2' }).waitFor();
    await f.screenshot(page, 'skill');
    expect((await f.api('GET', '/v1/skill/versions')).json.map((v: { version: number }) => v.version)).toEqual([2, 1]);
  });
});
