import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { drizzle, type PgliteDatabase } from 'drizzle-orm/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tagScopeCondition, type TagGroup, type TagMatch } from '../../src/reflect/tagFilter.js';

// Each condition runs on real PostgreSQL against these rows: the table below is the semantics.
const ROWS: Record<string, string[]> = {
  untagged: [],
  a: ['a'],
  b: ['b'],
  ab: ['a', 'b'],
  abc: ['a', 'b', 'c'],
};
const ALL = Object.keys(ROWS);

let client: PGlite;
let db: PgliteDatabase;
beforeAll(async () => {
  client = new PGlite();
  db = drizzle(client);
});
afterAll(() => client.close());

async function matching(scope: Parameters<typeof tagScopeCondition>[1]): Promise<string[]> {
  const values = sql.join(
    Object.entries(ROWS).map(([name, tags]) => sql`(${name}, ${sql.param(tags)}::text[])`),
    sql`, `,
  );
  const condition = tagScopeCondition(sql`tags`, scope);
  const result = await db.execute<{ name: string }>(sql`SELECT name FROM (VALUES ${values}) AS m(name, tags) WHERE ${condition} ORDER BY name`);
  return result.rows.map((r) => r.name).sort();
}

const FLAT: [string[] | undefined, TagMatch, string[]][] = [
  [['a', 'b'], 'any', ['a', 'ab', 'abc', 'b', 'untagged']],
  [['a', 'b'], 'all', ['ab', 'abc', 'untagged']],
  [['a', 'b'], 'any_strict', ['a', 'ab', 'abc', 'b']],
  [['a', 'b'], 'all_strict', ['ab', 'abc']],
  [['a', 'b'], 'exact', ['ab']],
  [['b', 'a', 'a'], 'exact', ['ab']],
  [['a'], 'any', ['a', 'ab', 'abc', 'untagged']],
  [['a'], 'all', ['a', 'ab', 'abc', 'untagged']],
  [['a'], 'any_strict', ['a', 'ab', 'abc']],
  [['a'], 'all_strict', ['a', 'ab', 'abc']],
  [['a'], 'exact', ['a']],
  [['z'], 'any', ['untagged']],
  [['z'], 'any_strict', []],
  [[], 'any', ALL],
  [[], 'all', ALL],
  [[], 'any_strict', ALL],
  [[], 'all_strict', ALL],
  [[], 'exact', ['untagged']],
  [undefined, 'any', ALL],
  [undefined, 'exact', ['untagged']],
];

describe('tags + tags_match', () => {
  it.each(FLAT)('tags %j with %s', async (tags, tagsMatch, expected) => {
    expect(await matching({ tags, tagsMatch })).toEqual([...expected].sort());
  });
});

const GROUPS: [string, TagGroup[], string[]][] = [
  ['a leaf defaults to any', [{ tags: ['c'] }], ['abc', 'untagged']],
  ['groups are AND-ed', [{ tags: ['a'], match: 'any_strict' }, { not: { tags: ['c'], match: 'any_strict' } }], ['a', 'ab']],
  ['or', [{ or: [{ tags: ['c'], match: 'any_strict' }, { tags: ['b'], match: 'exact' }] }], ['abc', 'b']],
  ['and of non-strict leaves keeps untagged', [{ and: [{ tags: ['a'] }, { tags: ['b'] }] }], ['ab', 'abc', 'untagged']],
  ['not of a strict leaf', [{ not: { tags: ['a', 'b'], match: 'all_strict' } }], ['a', 'b', 'untagged']],
  ['nested', [{ or: [{ and: [{ tags: ['a'], match: 'exact' }] }, { not: { or: [{ tags: ['a'], match: 'any' }] } }] }], ['a', 'b']],
];

describe('tag_groups', () => {
  it.each(GROUPS)('%s', async (_name, tagGroups, expected) => {
    expect(await matching({ tagGroups })).toEqual([...expected].sort());
  });
});
