import type { FastifySchemaCompiler } from 'fastify';
import { z } from 'zod';
import { ValidationError, type ValidationIssue } from './errors.js';
import { inputIssues } from './inputRules.js';

/** Fastify's request parts, named as FastAPI names them in `loc`. */
const LOCATIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

type Path = (string | number)[];
const pathOf = (path: PropertyKey[]): Path => path.map((p) => (typeof p === 'symbol' ? String(p) : p));

/**
 * Zod's issues as 422 entries; a refinement may name its own `type` in `params.type`. A union
 * whose value had the type of only one option (a trajectory string, not a list) reports that
 * option's issues, at their own loc, rather than a bare "Invalid input".
 */
export function issuesOf(issues: readonly z.core.$ZodIssue[], base: Path): ValidationIssue[] {
  return issues.flatMap((issue): ValidationIssue[] => {
    const loc = [...base, ...pathOf(issue.path)];
    if (issue.code === 'invalid_union') {
      // An option the value's type is wrong for says so at its root (zod may add length checks beside it).
      const typed = issue.errors.filter((option) => !option.some((i) => i.code === 'invalid_type' && i.path.length === 0));
      if (typed.length === 1) return issuesOf(typed[0]!, loc);
    }
    const params = (issue as { params?: { type?: unknown } }).params;
    return [{ loc, msg: issue.message, type: issue.code === 'custom' && typeof params?.type === 'string' ? params.type : issue.code }];
  });
}

/**
 * The validator of every route schema (body, query string, path, headers): first the input
 * rules every route shares (no NUL, no unpaired surrogate, bounded lists, maps and nesting;
 * see inputRules.ts), then the route's zod schema. Both answer a 422 whose `loc` is exact even
 * for map keys holding "/" (the type provider's own compiler joins paths with "/").
 * A route that declares no schema for a part reads nothing from it, so it needs no check.
 */
export const validatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  const part = LOCATIONS[httpPart ?? 'body'] ?? httpPart ?? 'body';
  return (data: unknown) => {
    const broken = inputIssues(data, [part]);
    if (broken.length > 0) return { error: new ValidationError(broken) };
    const result = z.safeParse(schema, data);
    if (!result.success) return { error: new ValidationError(issuesOf(result.error.issues, [part])) };
    return { value: result.data };
  };
};
