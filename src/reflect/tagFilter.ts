import { sql, type SQL } from 'drizzle-orm';

/**
 * Hindsight's tag matching. The non-strict modes let untagged rows through (an untagged memory
 * is global: it belongs to every scope); the strict ones do not; `exact` is set equality.
 */
export const TAG_MATCH_MODES = ['any', 'all', 'any_strict', 'all_strict', 'exact'] as const;
export type TagMatch = (typeof TAG_MATCH_MODES)[number];

export type TagGroup =
  | { tags: string[]; match?: TagMatch }
  | { and: TagGroup[] }
  | { or: TagGroup[] }
  | { not: TagGroup };

/** Bounds of a request's `tag_groups`: each group is a condition of its own in every query. */
export const TAG_GROUP_LIMITS = { maxGroups: 100, maxDepth: 10 } as const;

/** Why `groups` are over TAG_GROUP_LIMITS, or undefined. Iterative: any depth is safe to measure. */
export function tagGroupsProblem(groups: TagGroup[]): { message: string; type: string } | undefined {
  const stack = groups.map((group) => ({ group, depth: 1 }));
  let count = 0;
  while (stack.length > 0) {
    const { group, depth } = stack.pop()!;
    if (++count > TAG_GROUP_LIMITS.maxGroups) return { message: `must not hold more than ${TAG_GROUP_LIMITS.maxGroups} groups in all`, type: 'too_many_items' };
    if (depth > TAG_GROUP_LIMITS.maxDepth) return { message: `must not nest groups more than ${TAG_GROUP_LIMITS.maxDepth} levels deep`, type: 'too_deep' };
    const children = 'and' in group ? group.and : 'or' in group ? group.or : 'not' in group ? [group.not] : [];
    for (const child of children) stack.push({ group: child, depth: depth + 1 });
  }
  return undefined;
}

/** What a request asks for: flat `tags` + `tags_match`, or `tag_groups` (never both). */
export interface TagScope {
  tags?: string[] | null;
  tagsMatch?: TagMatch;
  tagGroups?: TagGroup[] | null;
}

const TRUE = sql`TRUE`;

/** One array parameter (drizzle would expand a bare JS array into a parenthesised list). */
function textArray(tags: string[]): SQL {
  return sql`${sql.param([...new Set(tags)])}::text[]`;
}

/**
 * One flat filter over a `text[]` column. Empty tags filter nothing, except under `exact`,
 * where the empty set is a scope of its own: untagged rows only.
 */
export function tagMatchCondition(column: SQL, tags: string[], match: TagMatch): SQL {
  if (tags.length === 0) return match === 'exact' ? sql`cardinality(${column}) = 0` : TRUE;
  const wanted = textArray(tags);
  switch (match) {
    case 'any':
      return sql`(cardinality(${column}) = 0 OR ${column} && ${wanted})`;
    case 'all':
      return sql`(cardinality(${column}) = 0 OR ${column} @> ${wanted})`;
    case 'any_strict':
      return sql`(${column} && ${wanted})`;
    case 'all_strict':
      return sql`(${column} @> ${wanted})`;
    case 'exact':
      return sql`(${column} @> ${wanted} AND ${column} <@ ${wanted})`;
  }
}

/** A boolean tree of groups; a leaf without `match` uses `any`, as flat tags do. */
export function tagGroupCondition(column: SQL, group: TagGroup): SQL {
  if ('tags' in group) return tagMatchCondition(column, group.tags, group.match ?? 'any');
  if ('and' in group) return group.and.length ? sql`(${sql.join(group.and.map((g) => tagGroupCondition(column, g)), sql` AND `)})` : TRUE;
  if ('or' in group) return group.or.length ? sql`(${sql.join(group.or.map((g) => tagGroupCondition(column, g)), sql` OR `)})` : sql`FALSE`;
  return sql`(NOT ${tagGroupCondition(column, group.not)})`;
}

/** The whole scope of a request as one condition on `column`; top-level groups are AND-ed. */
export function tagScopeCondition(column: SQL, scope: TagScope): SQL {
  if (scope.tagGroups) return tagGroupCondition(column, { and: scope.tagGroups });
  return tagMatchCondition(column, scope.tags ?? [], scope.tagsMatch ?? 'any');
}

/**
 * Which directives a reflect applies: untagged ones always (they are global); a tagged one only
 * when the request's tags share one of its tags, unless every active directive is asked for.
 */
export function directiveScopeCondition(column: SQL, requestTags: string[] | null | undefined, applyAll: boolean): SQL | undefined {
  if (applyAll) return undefined;
  if (!requestTags?.length) return sql`cardinality(${column}) = 0`;
  return sql`(cardinality(${column}) = 0 OR ${column} && ${textArray(requestTags)})`;
}
