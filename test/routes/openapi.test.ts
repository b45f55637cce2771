import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PATHS } from '../../src/routes/paths.js';
import { buildTestApp, type TestApp } from '../support/app.js';

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, { schema?: Schema; example?: unknown; examples?: unknown }> };
}
type Schema = { $ref?: string; example?: unknown; examples?: unknown };
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { securitySchemes: Record<string, Record<string, unknown>>; schemas?: Record<string, Schema> };
}

let t: TestApp;
let doc: Document;
beforeAll(async () => {
  t = await buildTestApp();
  const res = await t.call(undefined, { method: 'GET', url: '/openapi.json' });
  expect(res.statusCode).toBe(200);
  doc = res.json();
});
afterAll(() => t.close());

const ANY_UUID = '00000000-0000-4000-8000-000000000000';
const operations = () =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), op })));
const resolve = (schema: Schema | undefined): Schema | undefined =>
  schema?.$ref ? doc.components.schemas?.[schema.$ref.replace('#/components/schemas/', '')] : schema;
const exampleOf = (op: Operation): unknown => {
  const media = op.requestBody?.content['application/json'];
  const schema = resolve(media?.schema);
  return media?.example ?? schema?.example ?? (Array.isArray(schema?.examples) ? schema.examples[0] : undefined);
};

describe('GET /openapi.json', () => {
  it('is OpenAPI 3 and lists every path of the route table, in OpenAPI form', () => {
    expect(doc.openapi).toMatch(/^3\./);
    // The console's pages and assets are not API operations: they stay out of the document.
    const { consoleAssets, consolePage, ...api } = PATHS;
    const expected = Object.values(api)
      .flat()
      .map((p) => p.replace(/:(\w+)/g, '{$1}'));
    expect(expected.length).toBeGreaterThan(10);
    for (const path of expected) expect(Object.keys(doc.paths), path).toContain(path);
    for (const path of [...consoleAssets, ...consolePage]) expect(Object.keys(doc.paths)).not.toContain(path);
    expect(Object.keys(doc.paths).filter((p) => p.includes(':'))).toEqual([]);
  });

  it('every $ref points at a schema in components', () => {
    const refs = new Set<string>();
    JSON.stringify(doc, (k, v) => (k === '$ref' && refs.add(v), v));
    expect(refs.size).toBeGreaterThan(0);
    for (const ref of refs) expect(resolve({ $ref: ref }), ref).toBeDefined();
  });

  it('has the bearer security scheme (and X-API-Key)', () => {
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.apiKeyHeader).toMatchObject({ type: 'apiKey', in: 'header', name: 'X-API-Key' });
  });

  it('documents the key and the project (X-Project-Id, or bank_id in the path) exactly on the operations that need a key', async () => {
    let authenticated = 0;
    for (const { path, method, op } of operations()) {
      const url = path.replace(/\{\w+\}/g, ANY_UUID);
      const res = await t.call(undefined, { method: method as 'GET', url, payload: op.requestBody ? {} : undefined });
      const needsKey = res.statusCode === 401;
      const projectHeader = (op.parameters ?? []).find((p) => p.in === 'header' && p.name.toLowerCase() === 'x-project-id');
      if (needsKey) {
        authenticated++;
        expect(op.security, `${method} ${path}`).toContainEqual({ bearer: [] });
        // Hindsight's bank routes name their project in the path instead.
        const bankParam = (op.parameters ?? []).find((p) => p.in === 'path' && p.name === 'bank_id');
        if (path.includes('{bank_id}')) expect([projectHeader, bankParam !== undefined], `${method} ${path}`).toEqual([undefined, true]);
        else expect(projectHeader, `${method} ${path}`).toBeDefined();
      } else {
        expect(op.security ?? [], `${method} ${path}`).toEqual([]);
        expect(projectHeader, `${method} ${path}`).toBeUndefined();
      }
    }
    expect(authenticated).toBeGreaterThan(10);
  });

  it('every operation with a request body has an example the server accepts', async () => {
    const master = await t.masterKey('openapi-user');
    const withBody = operations().filter(({ op }) => op.requestBody);
    expect(withBody.map(({ method, path }) => `${method} ${path}`)).toEqual(
      expect.arrayContaining(['POST /v1/traces', 'POST /v1/api-keys', 'POST /v1/bootstrap', 'POST /v1/traces/{id}/review']),
    );
    for (const { path, method, op } of withBody) {
      const example = exampleOf(op);
      expect(example, `${method} ${path}`).toEqual(expect.any(Object));
      const res = await t.call(master, { method: method as 'POST', url: path.replace(/\{\w+\}/g, ANY_UUID), payload: example as object });
      // Bootstrap is disabled here (403) and unknown ids are 404: what matters is that the body passed validation.
      expect(res.statusCode, `${method} ${path}: ${res.body}`).not.toBe(422);
      expect(res.statusCode, `${method} ${path}: ${res.body}`).toBeLessThan(500);
    }
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI whose assets all load from this server', async () => {
    const page = await t.call(undefined, { method: 'GET', url: '/docs/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('swagger-ui');
    expect((await t.call(undefined, { method: 'GET', url: '/docs' })).statusCode).toBe(200);

    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('swagger-ui-bundle.js'))).toBe(true);
    expect(assets.filter((a) => /^(https?:)?\/\//.test(a))).toEqual([]);
    for (const asset of assets) {
      const url = new URL(asset, 'http://local/docs/').pathname;
      const res = await t.call(undefined, { method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body.length, url).toBeGreaterThan(0);
    }

    const initializer = await t.call(undefined, { method: 'GET', url: '/docs/static/swagger-initializer.js' });
    expect(initializer.body).toContain("resolveUrl('./json')");
    const json = await t.call(undefined, { method: 'GET', url: '/docs/json' });
    expect(json.statusCode).toBe(200);
    expect(Object.keys(json.json().paths)).toEqual(Object.keys(doc.paths));
  });
});
