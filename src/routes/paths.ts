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
  projects: ['/v1/projects'],
  projectSettings: ['/v1/projects/:project/settings'],
  projectJudge: ['/v1/projects/:project/judge'],
  judgeAgreement: ['/v1/projects/:project/judge/agreement'],
  judgeBacklog: ['/v1/projects/:project/judge/backlog'],
  projectExport: ['/v1/projects/:project/export'],
  projectImport: ['/v1/projects/:project/import'],
  traces: ['/v1/traces'],
  tracesBulkReview: ['/v1/traces/bulk-review'],
  trace: ['/v1/traces/:id'],
  traceReview: ['/v1/traces/:id/review'],
  traceRetry: ['/v1/traces/:id/retry'],
  reviewQueueClaim: ['/v1/review-queue/claim'],
  stats: ['/v1/stats'],
  llmCalls: ['/v1/llm-calls'],
  memories: ['/v1/memories'],
  memory: ['/v1/memories/:id'],
  memoryHistory: ['/v1/memories/:id/history'],
  memoryInvalidate: ['/v1/memories/:id/invalidate'],
  memoryRestore: ['/v1/memories/:id/restore'],
  memoriesQuery: ['/v1/memories/query'],
  memoriesAugment: ['/v1/memories/augment'],
  // The project's Skill: GET serves the SDK's get_skill; POST builds or refines it.
  skill: ['/v1/skill'],
  skillMarkdown: ['/v1/skill.md'],
  skillVersions: ['/v1/skill/versions'],
  mcp: ['/mcp'],
  // The web console (console/): hashed assets, and its page for any other browser GET.
  consoleAssets: ['/assets/*'],
  consolePage: ['/', '/*'],
  // Hindsight's paths: the bank is the project slug. Only the tenant `default` exists; the
  // `:tenant` forms answer 404 for any other (the static `default` forms win the route match).
  bankReflect: ['/v1/default/banks/:bank_id/reflect', '/v1/:tenant/banks/:bank_id/reflect'],
  bankMentalModels: ['/v1/default/banks/:bank_id/mental-models', '/v1/:tenant/banks/:bank_id/mental-models'],
  bankMentalModel: ['/v1/default/banks/:bank_id/mental-models/:mental_model_id', '/v1/:tenant/banks/:bank_id/mental-models/:mental_model_id'],
  bankMentalModelRefresh: [
    '/v1/default/banks/:bank_id/mental-models/:mental_model_id/refresh',
    '/v1/:tenant/banks/:bank_id/mental-models/:mental_model_id/refresh',
  ],
  bankDirectives: ['/v1/default/banks/:bank_id/directives', '/v1/:tenant/banks/:bank_id/directives'],
  bankDirective: ['/v1/default/banks/:bank_id/directives/:directive_id', '/v1/:tenant/banks/:bank_id/directives/:directive_id'],
} as const satisfies Record<string, readonly string[]>;
