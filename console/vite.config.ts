import { gzipSync } from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The budget for the JavaScript the browser downloads to show the first page. */
const FIRST_PAGE_JS_LIMIT = 250 * 1024;

/**
 * Prints the gzipped size of the JS the first page needs (the entry chunk and everything it
 * imports statically, not lazy chunks) and fails the build past the budget.
 */
function firstPageBudget(): Plugin {
  return {
    name: 'first-page-js-budget',
    apply: 'build',
    generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((c) => c.type === 'chunk' && c.isEntry);
      if (!entry || entry.type !== 'chunk') return;
      const seen = new Set<string>();
      const visit = (name: string) => {
        if (seen.has(name)) return;
        seen.add(name);
        const chunk = bundle[name];
        if (chunk?.type === 'chunk') chunk.imports.forEach(visit);
      };
      visit(entry.fileName);
      let gzipped = 0;
      for (const name of seen) {
        const chunk = bundle[name];
        if (chunk?.type === 'chunk') gzipped += gzipSync(chunk.code, { level: 9 }).length;
      }
      const kb = (gzipped / 1024).toFixed(1);
      this.info(`first-page JavaScript: ${kb} KB gzipped in ${seen.size} file(s) (budget ${FIRST_PAGE_JS_LIMIT / 1024} KB)`);
      process.stdout.write(`console: first-page JavaScript ${kb} KB gzipped (budget ${FIRST_PAGE_JS_LIMIT / 1024} KB)\n`);
      if (gzipped > FIRST_PAGE_JS_LIMIT) this.error(`first-page JavaScript is ${kb} KB gzipped, over the ${FIRST_PAGE_JS_LIMIT / 1024} KB budget`);
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  publicDir: false,
  // Preact's automatic JSX runtime, compiled by Vite's own transformer (no Babel).
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: path.join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // One small bundle; no inline scripts or styles anywhere, so a strict CSP holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  server: {
    // `npm run console:dev`: the API runs at :8000, Vite serves the console with hot reload.
    proxy: Object.fromEntries(['/v1', '/health', '/ready', '/openapi.json', '/docs', '/mcp'].map((p) => [p, 'http://127.0.0.1:8000'])),
  },
  plugins: [firstPageBudget()],
});
