/**
 * The server the learning benchmark drives: the real app (API, worker, embedded PostgreSQL and
 * queue) listening on a free port, its real OpenAI embedder and LLM reflector pointed at the
 * fixture endpoint (or the local MiniLM embedder). The benchmark itself only speaks HTTP to it.
 */
import { randomBytes } from 'node:crypto';
import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';

export interface BenchServer {
  url: string;
  bootstrapToken: string;
  close(): Promise<void>;
}

/** Settings the benchmark fixes; everything else (REFLECT_DEFAULT_*, Q_LEARNING_ALPHA …) comes from the environment. */
const FIXED = ['DATABASE_URL', 'REDIS_URL', 'PORT', 'HOST', 'REFLECT_DATA_DIR', 'OPENAI_API_KEY', 'OPENAI_BASE_URL', 'REFLECT_EMBEDDING_PROVIDER', 'REFLECT_EMBEDDING_MODEL', 'REFLECT_EMBEDDING_DIMENSIONS', 'REFLECT_BOOTSTRAP_TOKEN'];

export async function startBenchServer(options: { openaiBaseUrl: string; embeddings: 'fixture' | 'local'; env?: Record<string, string> }): Promise<BenchServer> {
  const bootstrapToken = randomBytes(18).toString('hex');
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !FIXED.includes(name))) as Record<string, string>;
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    ...inherited,
    ...options.env,
    PORT: '0',
    HOST: '127.0.0.1',
    REFLECT_DATA_DIR: 'memory://',
    REFLECT_BOOTSTRAP_TOKEN: bootstrapToken,
    OPENAI_API_KEY: 'learning-bench',
    OPENAI_BASE_URL: options.openaiBaseUrl,
    REFLECT_LLM_MODEL: 'fixture-llm',
    REFLECT_EMBEDDING_PROVIDER: options.embeddings === 'fixture' ? 'openai' : 'local',
    // One benchmark run makes thousands of calls a minute from one address.
    REFLECT_RATE_LIMIT_MAX: '10000000',
  });
  const app = await buildApp({ config, logger: false });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, bootstrapToken, close: () => app.close() };
}
