import { describe, expect, it } from 'vitest';
import { useConsole, type PageGlobals } from './support.js';

// Trace contents are untrusted: whatever markup a trajectory holds must show as text and never run.
const PAYLOADS = {
  script: '<script>window.__xss = "script"</script>',
  img: '<img src="x" onerror="window.__xss = \'img\'">',
  link: '[click me](javascript:window.__xss="link") <a href="javascript:window.__xss=\'anchor\'">open</a>',
  svg: '<svg onload="window.__xss = \'svg\'"></svg>',
};

describe('console: a hostile trajectory renders inert', () => {
  const f = useConsole();

  it('shows script, onerror and javascript: payloads as text, runs none, and CSP blocks injected handlers', async () => {
    const created = await f.api('POST', '/v1/traces', {
      task: `XSS probe ${PAYLOADS.script}`,
      trajectory: [
        { role: 'system', content: PAYLOADS.svg },
        { role: 'user', content: PAYLOADS.img },
        {
          role: 'assistant',
          content: [{ type: 'text', text: PAYLOADS.link }],
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'render', arguments: JSON.stringify({ html: PAYLOADS.img }) } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: PAYLOADS.script },
      ],
      final_response: PAYLOADS.link,
      metadata: { note: PAYLOADS.img },
    });
    expect(created.status).toBe(202);
    const { page, signIn, cspViolations, errors } = await f.newPage();
    await signIn(f.key);
    const response = await page.goto(`/traces/${created.json.id}`);
    expect(response!.headers()['content-security-policy']).toContain("script-src 'self'");
    expect(response!.headers()['x-frame-options']).toBe('DENY');
    await page.waitForSelector('.conversation .msg-final');
    // Give any injected handler (image error, svg load) the time to fire.
    await page.waitForTimeout(300);

    const conversation = page.locator('.conversation');
    await expect(conversation.textContent()).resolves.toContain(PAYLOADS.img);
    await expect(conversation.textContent()).resolves.toContain(PAYLOADS.script);
    await expect(conversation.textContent()).resolves.toContain('javascript:window.__xss');
    await expect(page.locator('h1 + .trace-view').textContent()).resolves.toContain('<script>');
    expect(await page.locator('.content img, .content svg:not(.u-over svg), .content script').count()).toBe(0);
    expect(await page.locator('a[href^="javascript:"]').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss)).toBeUndefined();
    expect(await cspViolations()).toEqual([]);
    await f.screenshot(page, 'xss-trace');

    // The second wall: markup that did reach the DOM as HTML still could not run its inline handler.
    await page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.insertAdjacentHTML('beforeend', '<img src="/nope.png" onerror="window.__xss = \'csp\'">'));
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).__csp.length > 0);
    expect((await cspViolations()).join('\n')).toMatch(/script-src/);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).__xss)).toBeUndefined();
    expect(errors).toEqual([]);
  });
});
