// The engine thread's entry. Worker threads start without the parent's TypeScript loader (under
// vitest, for one), so from the sources it registers tsx itself; a compiled build (dist/) has
// the JavaScript beside it.
import { existsSync } from 'node:fs';

const source = new URL('./engineThread.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./engineThread.js', import.meta.url).href);
}
