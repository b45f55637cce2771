// Worker threads start without the parent's TypeScript loader under vitest; register tsx here
// so the engine thread runs from the same sources under tsx, vitest and the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./engineThread.ts');
