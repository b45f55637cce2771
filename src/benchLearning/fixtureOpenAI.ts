/**
 * The OpenAI-compatible endpoint the learning benchmark points the server at: embeddings from
 * the fixture tags (exact cosines), and chat completions that answer the reflection prompt with
 * a short lesson in the reflector's JSON shape (the "fake LLM"), and the judge's prompt with a
 * verdict (judgeFixture.ts: the true outcome, flipped at the rubric's error rate). Lives in src/ so that
 * `reflect-server bench learning` works from the installed package; the tests' fake server
 * (test/support/fakeOpenAI.ts) understands the same tags.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { FIXTURE_DIMENSIONS, fixtureVector } from './fixtureEmbeddings.js';
import { fixtureJudgeVerdict } from './judgeFixture.js';

export interface FixtureOpenAI {
  baseURL: string;
  close(): Promise<void>;
}

/** Texts without a tag (the embedder's dimension probe) all get one vector on the last axis. */
function embed(text: string): number[] {
  const tagged = fixtureVector(text);
  if (tagged) return tagged;
  const vector = new Array<number>(FIXTURE_DIMENSIONS).fill(0);
  vector[FIXTURE_DIMENSIONS - 1] = 1;
  return vector;
}

function lesson(prompt: string): string {
  const task = /<task>([\s\S]*?)<\/task>/.exec(prompt)?.[1]?.trim().slice(0, 300) ?? 'the task';
  const failed = /<outcome>\s*fail\s*<\/outcome>/i.test(prompt);
  return JSON.stringify({
    reflection: failed ? `The run on "${task}" failed; the advice followed was wrong for it.` : `The run on "${task}" passed; repeat its approach.`,
    summary: `${failed ? 'Failed' : 'Passed'}: ${task}`,
    key_mistake: failed ? 'Followed advice that did not fit the task.' : '',
    correct_action: failed ? 'Use different advice next time.' : 'Repeat the approach.',
    guidance: `When asked "${task}", apply this lesson.`,
    applicable_tools: [],
    tools_used: [],
  });
}

async function readJson(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks).toString('utf8');
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

export async function startFixtureOpenAI(): Promise<FixtureOpenAI> {
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    void readJson(req)
      .then((body) => {
        const path = (req.url ?? '').split('?')[0];
        if (req.method === 'POST' && path === '/v1/embeddings') {
          const input = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
          return send(200, {
            object: 'list',
            data: input.map((text, index) => ({ object: 'embedding', index, embedding: embed(text) })),
            model: body.model,
            usage: { prompt_tokens: 0, total_tokens: 0 },
          });
        }
        if (req.method === 'POST' && path === '/v1/chat/completions') {
          const messages = (body.messages ?? []) as { role: string; content?: unknown }[];
          const user = messages.filter((m) => m.role === 'user').at(-1)?.content;
          const prompt = typeof user === 'string' ? user : '';
          const judged = fixtureJudgeVerdict(messages.map((m) => (typeof m.content === 'string' ? m.content : '')));
          const content = judged ? JSON.stringify({ verdict: judged.verdict, reason: judged.reason }) : lesson(prompt);
          return send(200, {
            id: 'chatcmpl-fixture',
            object: 'chat.completion',
            created: Math.floor(Date.now() / 1000),
            model: body.model,
            choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, finish_reason: 'stop', logprobs: null }],
            usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
          });
        }
        return send(404, { error: { message: `Unknown path ${path}`, type: 'invalid_request_error', code: null } });
      })
      .catch((error: unknown) => send(400, { error: { message: String(error), type: 'invalid_request_error', code: null } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
