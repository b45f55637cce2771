import type { ValidationIssue } from './errors.js';

declare global {
  interface String {
    /** ES2024, in Node 20: false when the string holds an unpaired UTF-16 surrogate. */
    isWellFormed(): boolean;
  }
}

/**
 * What every request part (body, query string, path parameters) obeys on every route, before
 * its schema is even looked at: PostgreSQL stores neither NUL in text nor an unpaired surrogate
 * (it would turn one into U+FFFD, or reject the JSON), and unbounded lists, maps or nesting would
 * reach the database or a recursive parser. Fields set tighter limits of their own.
 */
export const INPUT_LIMITS = {
  /** Arrays and objects inside one another, the request part itself being level 1. */
  maxDepth: 32,
  maxItems: 10_000,
  maxKeys: 1_000,
} as const;

/** A 422 lists at most this many problems; the first ones are enough to fix a request. */
const MAX_ISSUES = 20;

export const NUL_MESSAGE = 'must not contain NUL (\\u0000) characters';
export const SURROGATE_MESSAGE = 'must not contain unpaired UTF-16 surrogates';

/** Why a string cannot be stored, or undefined when it can. */
export function textProblem(text: string): { msg: string; type: string } | undefined {
  if (text.includes('\u0000')) return { msg: NUL_MESSAGE, type: 'nul_character' };
  if (!text.isWellFormed()) return { msg: SURROGATE_MESSAGE, type: 'unpaired_surrogate' };
  return undefined;
}

type Loc = (string | number)[];

/** A place in the walked value; its loc is built only when a problem is reported there. */
interface Node {
  value: unknown;
  parent: Node | undefined;
  key: string | number | undefined;
  depth: number;
}

function locOf(node: Node, base: Loc): Loc {
  const path: (string | number)[] = [];
  for (let n: Node | undefined = node; n?.parent; n = n.parent) path.push(n.key!);
  return [...base, ...path.reverse()];
}

/**
 * Every place in `value` that breaks the input rules, each named by its exact `loc` (a map key
 * is checked as text too, and reported at its own loc). Walks with an explicit stack, so no
 * input depth can overflow the call stack; stops at MAX_ISSUES.
 * `depth` is the nesting level `value` itself sits at (1 for a whole request part).
 */
export function inputIssues(value: unknown, loc: Loc = [], depth = 1): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const report = (node: Node, msg: string, type: string, key?: string) =>
    issues.push({ loc: key === undefined ? locOf(node, loc) : [...locOf(node, loc), key], msg, type });
  const stack: Node[] = [{ value, parent: undefined, key: undefined, depth }];
  // Scalars are settled at once (most of a large body): only containers and bad text get a Node.
  const visit = (child: unknown, parent: Node, key: string | number) => {
    if (typeof child === 'object' && child !== null) stack.push({ value: child, parent, key, depth: parent.depth + 1 });
    else if (typeof child === 'string' && textProblem(child)) stack.push({ value: child, parent, key, depth: parent.depth + 1 });
  };
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const node = stack.pop()!;
    const current = node.value;
    if (typeof current === 'string') {
      const problem = textProblem(current);
      if (problem) report(node, problem.msg, problem.type);
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (node.depth > INPUT_LIMITS.maxDepth) {
      report(node, `must not nest arrays and objects more than ${INPUT_LIMITS.maxDepth} levels deep`, 'too_deep');
      continue;
    }
    // Children go onto the stack last first, so problems are reported in document order.
    if (Array.isArray(current)) {
      if (current.length > INPUT_LIMITS.maxItems) {
        report(node, `must not have more than ${INPUT_LIMITS.maxItems} items`, 'too_many_items');
        continue;
      }
      for (let i = current.length - 1; i >= 0; i--) visit(current[i], node, i);
      continue;
    }
    const keys = Object.keys(current);
    if (keys.length > INPUT_LIMITS.maxKeys) {
      report(node, `must not have more than ${INPUT_LIMITS.maxKeys} keys`, 'too_many_keys');
      continue;
    }
    for (const key of keys) {
      const problem = textProblem(key);
      if (problem) report(node, `key ${problem.msg}`, problem.type, key);
    }
    for (let i = keys.length - 1; i >= 0; i--) visit((current as Record<string, unknown>)[keys[i]!], node, keys[i]!);
  }
  return issues.slice(0, MAX_ISSUES);
}
