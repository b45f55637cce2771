/**
 * End-to-end console tests: the real server as a process (port 0, embedded database, the fake
 * OpenAI server for LLM and embeddings) and Debian's Chromium driven by playwright-core.
 * One browser and one server per test file; each test saves a screenshot of the page it checks.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { eventually } from '../support/app.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI.js';
import { llmEnv } from '../support/learning.js';
import { http, killAllServerProcesses, startServerProcess, type ServerProcess } from '../support/serverProcess.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(ROOT, 'test-artifacts', 'console');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

/**
 * What the tests touch inside the page. page.evaluate callbacks run in the browser, but this
 * project type-checks with Node's globals only, so they reach the page's through this type.
 */
export interface PageGlobals {
  __csp: string[];
  __xss?: string;
  document: {
    addEventListener(type: 'securitypolicyviolation', listener: (e: { violatedDirective: string; blockedURI: string }) => void): void;
    body: { insertAdjacentHTML(position: 'beforeend', html: string): void };
  };
  sessionStorage: { length: number } & Record<string, string>;
  localStorage: Record<string, string>;
}

export interface ConsoleFixture {
  server: ServerProcess;
  fake: FakeOpenAI;
  browser: Browser;
  /** The master key the server printed on its first start. */
  key: string;
  /** A fresh tab (own session storage) that records CSP violations and page errors. */
  newPage(): Promise<ConsolePage>;
  /** A call to the API with a key, as an agent would make it. */
  api(method: string, url: string, body?: unknown, key?: string): Promise<{ status: number; json: any }>;
  /** Saves a full-page screenshot to test-artifacts/console/<name>.png. */
  screenshot(page: Page, name: string): Promise<string>;
}

export interface ConsolePage {
  page: Page;
  context: BrowserContext;
  /** `securitypolicyviolation` events the page saw (directive and blocked URI). */
  cspViolations(): Promise<string[]>;
  errors: string[];
  signIn(key: string): Promise<void>;
}

/** Registers beforeAll/afterAll for the shared server and browser of one test file. */
export function useConsole(): ConsoleFixture {
  const f = {} as ConsoleFixture;
  let dataDir = '';
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-console.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
    mkdirSync(SCREENSHOTS, { recursive: true });
    dataDir = mkdtempSync(path.join(tmpdir(), 'reflect-console-'));
    f.fake = await startFakeOpenAI();
    const [server, browser] = await Promise.all([
      startServerProcess(['src/server.ts'], { ...llmEnv(f.fake), REFLECT_DATA_DIR: dataDir, REFLECT_INGEST_BACKOFF_MS: '50' }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
    ]);
    f.server = server;
    f.browser = browser;
    f.key = await eventually(async () => server.firstKey);
    f.api = (method, url, body, key) => http(server, key ?? f.key, method, url, body);
    f.screenshot = async (page, name) => {
      const file = path.join(SCREENSHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    };
    f.newPage = async () => {
      const context = await browser.newContext({ baseURL: server.baseUrl, viewport: { width: 1360, height: 900 } });
      context.setDefaultTimeout(15_000);
      contexts.push(context);
      // Before any page script: record CSP violations and whether injected markup ever ran.
      await context.addInitScript(() => {
        const w = globalThis as unknown as PageGlobals;
        w.__csp = [];
        w.document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('dialog', (d) => void d.accept());
      return {
        page,
        context,
        errors,
        cspViolations: () => page.evaluate(() => (globalThis as unknown as PageGlobals).__csp),
        async signIn(key: string) {
          await page.goto('/');
          await page.fill('#api-key', key);
          await page.click('button[type=submit]');
          await page.waitForSelector('nav.sidebar');
        },
      };
    };
  }, 180_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await f.browser?.close();
    await f.server?.stop();
    await killAllServerProcesses();
    await f.fake?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return f;
}

/** Polls the API until the trace's review has been processed. */
export async function reviewed(f: ConsoleFixture, id: string): Promise<any> {
  return eventually(async () => {
    const res = await f.api('GET', `/v1/traces/${id}`);
    return res.json.ingest_status === 'completed' && res.json.review_status === 'reviewed' ? res.json : undefined;
  }, 30_000);
}
