import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTrace, getMemory, getTrace, uniqueTask, useLoopApp, useSharedDatabase, waitForTrace, type LoopFixture } from '../support/learning.js';

const corpus = JSON.parse(readFileSync(new URL('../fixtures/secrets.json', import.meta.url), 'utf8')) as {
  positives: { kind: string; text: string; secret: string }[];
};
const secretOf = (kind: string) => corpus.positives.find((p) => p.kind === kind)!.secret;

const openaiKey = secretOf('openai_key');
const awsKeyId = secretOf('aws_access_key_id');
const githubToken = secretOf('github_token');
const privateKey = secretOf('private_key');
const jwt = secretOf('jwt');
const reflectKey = secretOf('reflect_key');
const SECRETS = [openaiKey, awsKeyId, githubToken, privateKey, jwt, reflectKey, 'Sup3r-S3cret!'];

/** A run with a secret in every stored text: task, nested trajectory, final response, feedback, reference, metadata. */
function leakyTrace(task: string) {
  return {
    task: `${task} with OPENAI_API_KEY=${openaiKey}`,
    trajectory: [
      { role: 'user', content: `Deploy it. AWS key ${awsKeyId}` },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'c1', type: 'function', function: { name: 'http_get', arguments: JSON.stringify({ url: 'https://api.example.com/v1', headers: { Authorization: `Bearer ${jwt}` } }) } },
        ],
      },
      { role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: `config dump:\n${privateKey}\nend` }] },
      { role: 'assistant', content: 'Deployed.' },
    ],
    final_response: `Deployed with token ${githubToken}`,
    review_result: 'fail',
    feedback_text: `Never paste keys like ${reflectKey}`,
    reference_context: 'DATABASE_URL=postgresql://reflect:Sup3r-S3cret!@db.internal:5432/reflect',
    metadata: { team: 'ops', nested: { token: openaiKey } },
  };
}

function expectNoSecrets(text: string) {
  for (const secret of SECRETS) expect(text).not.toContain(secret);
}

const database = useSharedDatabase();

describe('secret redaction (on by default)', () => {
  const f: LoopFixture = useLoopApp('embedded', { database });

  it('stores placeholders in every text of a trace, counts them, and sends the LLM and the embedder none', async () => {
    const task = uniqueTask('Deploy the service');
    const id = await createTrace(f, leakyTrace(task));
    const trace = await waitForTrace(f, id);
    expect(trace.ingest_status).toBe('completed');

    expectNoSecrets(JSON.stringify(trace));
    expect(trace.task).toBe(`${task} with OPENAI_API_KEY=[REDACTED:openai_key]`);
    expect(trace.trajectory[0]).toEqual({ role: 'user', content: 'Deploy it. AWS key [REDACTED:aws_access_key_id]' });
    const call = (trace.trajectory[1] as unknown as { tool_calls: { function: { arguments: string } }[] }).tool_calls[0]!;
    expect(JSON.parse(call.function.arguments).headers).toEqual({ Authorization: 'Bearer [REDACTED:jwt]' });
    expect(trace.trajectory[2]).toEqual({ role: 'tool', tool_call_id: 'c1', content: [{ type: 'text', text: 'config dump:\n[REDACTED:private_key]\nend' }] });
    expect(trace.final_response).toBe('Deployed with token [REDACTED:github_token]');
    expect(trace.review?.feedback_text).toBe('Never paste keys like [REDACTED:reflect_key]');
    expect(trace.reference_context).toBe('DATABASE_URL=postgresql://reflect:[REDACTED:url_password]@db.internal:5432/reflect');
    expect(trace.metadata).toEqual({ team: 'ops', nested: { token: '[REDACTED:openai_key]' } });
    expect(trace.redactions).toEqual({ openai_key: 2, aws_access_key_id: 1, jwt: 1, private_key: 1, github_token: 1, reflect_key: 1, url_password: 1 });

    // Nothing secret left the server: not to the LLM, not to the embedding endpoint.
    expectNoSecrets(JSON.stringify(f.fake.requests.map((r) => r.body)));
    const memory = await getMemory(f, trace.created_memory_id!);
    expectNoSecrets(JSON.stringify(memory));
  });

  it('redacts a later review’s feedback and adds it to the counts', async () => {
    const id = await createTrace(f, { task: uniqueTask(`Rotate ${githubToken}`), trajectory: 'rotated' });
    expect((await getTrace(f, id)).redactions).toEqual({ github_token: 1 });
    const res = await f.t.call(f.key, {
      method: 'POST',
      url: `/v1/traces/${id}/review`,
      payload: { result: 'pass', feedback_text: `ok, new one is ${githubToken} and ${awsKeyId}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().review.feedback_text).toBe('ok, new one is [REDACTED:github_token] and [REDACTED:aws_access_key_id]');
    expect(res.json().redactions).toEqual({ github_token: 2, aws_access_key_id: 1 });
    await waitForTrace(f, id);
  });

  it('redacts agent-authored memories (POST /v1/memories and edits)', async () => {
    const created = await f.t.call(f.key, {
      method: 'POST',
      url: '/v1/memories',
      payload: { task: uniqueTask('Call the billing API'), reflection: `Use the key ${secretOf('stripe_key')}`, metadata: { note: jwt } },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json().reflection).toBe('Use the key [REDACTED:stripe_key]');
    expect(created.json().metadata).toEqual({ note: '[REDACTED:jwt]' });

    const edited = await f.t.call(f.key, { method: 'PATCH', url: `/v1/memories/${created.json().id}`, payload: { guidance: `Auth with ${openaiKey}` } });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json().guidance).toBe('Auth with [REDACTED:openai_key]');
  });

  it('leaves a trace without secrets as sent, with empty counts', async () => {
    const id = await createTrace(f, { task: uniqueTask('Plain run'), trajectory: [{ role: 'user', content: 'commit 3f786850e387550fdab836ed7e6dc881de23001b' }] });
    const trace = await getTrace(f, id);
    expect(trace.trajectory).toEqual([{ role: 'user', content: 'commit 3f786850e387550fdab836ed7e6dc881de23001b' }]);
    expect(trace.redactions).toEqual({});
  });
});

describe('REFLECT_REDACT_SECRETS=false', () => {
  const f: LoopFixture = useLoopApp('embedded', { database, env: { REFLECT_REDACT_SECRETS: 'false' } });

  it('stores traces as sent', async () => {
    const task = uniqueTask('Deploy unredacted');
    const id = await createTrace(f, leakyTrace(task));
    const trace = await waitForTrace(f, id);
    expect(trace.task).toContain(openaiKey);
    expect(trace.final_response).toContain(githubToken);
    expect(trace.redactions).toEqual({});
  });
});
