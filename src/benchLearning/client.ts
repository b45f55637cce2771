/**
 * The benchmark's only way into the server: the Reflect SDK's calls over HTTP (bootstrap,
 * create memory, query/augment, create_trace, wait for the trace, get memory), and for the
 * judge arms the project's judge settings and a human review.
 */

export interface MemoryResult {
  id: string;
  q_value: number;
  similarity: number;
  score: number;
}

export interface TraceResult {
  review_status: string;
  ingest_status: string;
  created_memory_id: string | null;
  last_ingest_error: string | null;
  review?: { result: 'pass' | 'fail'; source?: 'human' | 'judge' } | null;
  judge?: { status: string | null; result: 'pass' | 'fail' | null; error: string | null } | null;
}

export interface JudgeAgreement {
  judged: number;
  with_human: number;
  agreement_rate: number | null;
  kappa: number | null;
}

export class ReflectHttp {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly project?: string,
  ) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.apiKey}` };
    if (this.project) headers['x-project-id'] = this.project;
    if (body !== undefined) headers['content-type'] = 'application/json';
    for (let attempt = 0; ; attempt++) {
      const response = await fetch(`${this.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      // A busy server may answer 429/503 for a moment; the SDK's callers retry those too.
      if ((response.status === 429 || response.status === 503) && attempt < 20) {
        await sleep(100 * (attempt + 1));
        continue;
      }
      if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as T;
    }
  }

  /** A master key for a new project (POST /v1/bootstrap with the bootstrap token). */
  static async bootstrap(baseUrl: string, token: string, userId: string, projectId: string): Promise<string> {
    const response = await fetch(`${baseUrl}/v1/bootstrap`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user_id: userId, project_id: projectId, key_label: 'learning benchmark' }),
    });
    const text = await response.text();
    if (response.status !== 201) throw new Error(`POST /v1/bootstrap: HTTP ${response.status} ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { api_key: string }).api_key;
  }

  createMemory(body: { task: string; reflection: string; metadata?: Record<string, unknown> }): Promise<MemoryResult> {
    return this.call('POST', '/v1/memories', body);
  }

  listOldest(limit: number): Promise<MemoryResult[]> {
    return this.call('GET', `/v1/memories?limit=${Math.min(limit, 500)}&sort=created_at&order=asc`);
  }

  getMemory(id: string): Promise<MemoryResult> {
    return this.call('GET', `/v1/memories/${id}`);
  }

  async retrieve(via: 'query' | 'augment', body: Record<string, unknown>): Promise<MemoryResult[]> {
    if (via === 'query') return this.call('POST', '/v1/memories/query', body);
    return (await this.call<{ memories: MemoryResult[] }>('POST', '/v1/memories/augment', body)).memories;
  }

  createTrace(body: Record<string, unknown>): Promise<{ id: string }> {
    return this.call('POST', '/v1/traces', body);
  }

  getTrace(id: string): Promise<TraceResult> {
    return this.call('GET', `/v1/traces/${id}`);
  }

  reviewTrace(id: string, body: { result: 'pass' | 'fail'; feedback_text?: string; alpha?: number }): Promise<TraceResult> {
    return this.call('POST', `/v1/traces/${id}/review`, body);
  }

  /** PATCH /v1/projects/{project}/judge (switches the project's judge on or off, sets its rubric and alpha). */
  setJudge(project: string, body: { enabled: boolean; rubric?: string; alpha?: number | null }): Promise<unknown> {
    return this.call('PATCH', `/v1/projects/${encodeURIComponent(project)}/judge`, body);
  }

  /** GET /v1/projects/{project}/judge/agreement: the server's own judge-vs-human statistics (last 30 days). */
  judgeAgreement(project: string): Promise<JudgeAgreement> {
    return this.call('GET', `/v1/projects/${encodeURIComponent(project)}/judge/agreement`);
  }

  /** As the SDK's create_trace_and_wait: polls until the review is processed (or failed). */
  async waitForTrace(id: string, timeoutMs = 60_000): Promise<TraceResult> {
    const deadline = Date.now() + timeoutMs;
    for (let delay = 5; ; delay = Math.min(delay * 2, 50)) {
      const trace = await this.call<TraceResult>('GET', `/v1/traces/${id}`);
      if (trace.review_status === 'reviewed') return trace;
      if (trace.ingest_status === 'failed') throw new Error(`trace ${id} failed: ${trace.last_ingest_error?.slice(0, 500)}`);
      if (Date.now() > deadline) throw new Error(`trace ${id} not reviewed within ${timeoutMs} ms`);
      await sleep(delay);
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
