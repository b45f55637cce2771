/**
 * The route table: every path the server answers, with its aliases. A client that turns out to
 * call another path gets an alias here, in one place.
 */
export const PATHS = {
  health: ['/health', '/v1/health'],
  ready: ['/ready'],
  bootstrap: ['/v1/bootstrap'],
  apiKeys: ['/v1/api-keys'],
  apiKey: ['/v1/api-keys/:id'],
  apiKeyRevoke: ['/v1/api-keys/:id/revoke'],
  traces: ['/v1/traces'],
  trace: ['/v1/traces/:id'],
  traceReview: ['/v1/traces/:id/review'],
  traceRetry: ['/v1/traces/:id/retry'],
  memories: ['/v1/memories'],
  memory: ['/v1/memories/:id'],
  memoryHistory: ['/v1/memories/:id/history'],
  memoriesQuery: ['/v1/memories/query'],
  memoriesAugment: ['/v1/memories/augment'],
  mcp: ['/mcp'],
} as const satisfies Record<string, readonly string[]>;
