import { it } from 'vitest';
import { buildTestApp } from '../support/app.js';
it('probe', async () => {
  const t = await buildTestApp({ REFLECT_BOOTSTRAP_TOKEN: 'tok' });
  const doc = (await t.call(undefined, { method: 'GET', url: '/openapi.json' })).json();
  console.log(Object.keys(doc.components.schemas));
  const refs = new Set<string>(); JSON.stringify(doc, (k, v) => { if (k === '$ref') refs.add(v); return v; });
  console.log([...refs]);
  for (const [p, ops] of Object.entries<any>(doc.paths)) for (const [m, op] of Object.entries<any>(ops)) if (op.requestBody) console.log(p, m, JSON.stringify(op.requestBody).includes('"example"'));
  await t.close();
});
