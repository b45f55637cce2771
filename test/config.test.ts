import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { run, SLOW_MS, TSX } from './support/process.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('has the contract defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8000, host: '127.0.0.1', dataDir: './.reflect-data', qLearningAlpha: 0.3, bodyLimit: 10 * 1024 * 1024 });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.redisUrl).toBeUndefined();
    expect(config.bootstrapToken).toBeUndefined();
    expect(config.embedding.provider).toBe('local');
    expect(config.llm.model).toBe('gpt-4o-mini');
  });

  it('reads valid values', () => {
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: 'postgresql://u:p@db:5432/reflect',
      REDIS_URL: 'redis://cache:6379',
      Q_LEARNING_ALPHA: '1',
      REFLECT_EMBEDDING_PROVIDER: 'openai',
      REFLECT_BOOTSTRAP_TOKEN: ' token ',
    });
    expect(config).toMatchObject({ port: 0, databaseUrl: 'postgresql://u:p@db:5432/reflect', redisUrl: 'redis://cache:6379', qLearningAlpha: 1, bootstrapToken: 'token' });
    expect(config.embedding.provider).toBe('openai');
  });

  it('treats empty values as unset (PORT= is the default port, not a random one)', () => {
    const config = loadConfig({ PORT: '', Q_LEARNING_ALPHA: ' ', DATABASE_URL: '', REFLECT_BOOTSTRAP_TOKEN: '', REFLECT_DATA_DIR: '' });
    expect(config).toMatchObject({ port: 8000, qLearningAlpha: 0.3, dataDir: './.reflect-data' });
    expect(config.databaseUrl).toBeUndefined();
    expect(config.bootstrapToken).toBeUndefined();
  });

  it('names every bad variable and what it allows', () => {
    const problems = problemsOf({ PORT: 'abc', Q_LEARNING_ALPHA: '2', REFLECT_EMBEDDING_PROVIDER: 'foo', DATABASE_URL: 'notaurl' });
    expect(problems).toHaveLength(4);
    expect(problems).toContain('PORT: must be an integer from 0 to 65535');
    expect(problems).toContain('Q_LEARNING_ALPHA: must be a number greater than 0 and at most 1');
    expect(problems).toContain('REFLECT_EMBEDDING_PROVIDER: must be one of local, openai');
    expect(problems).toContain('DATABASE_URL: must be a URL starting with postgres:// or postgresql://');
  });

  it.each([
    ['PORT', '70000', /^PORT: must be an integer from 0 to 65535$/],
    ['PORT', '80.5', /^PORT: must be an integer/],
    ['Q_LEARNING_ALPHA', '0', /^Q_LEARNING_ALPHA: must be a number greater than 0/],
    ['REDIS_URL', 'http://cache', /^REDIS_URL: must be a URL starting with redis:\/\/ or rediss:\/\/$/],
    ['OPENAI_BASE_URL', 'localhost:11434', /^OPENAI_BASE_URL: must be a URL starting with http:\/\/ or https:\/\/$/],
    ['LOG_LEVEL', 'loud', /^LOG_LEVEL: must be one of fatal, error, warn, info, debug, trace, silent$/],
    ['REFLECT_BODY_LIMIT', '10', /^REFLECT_BODY_LIMIT: must be an integer of at least 1024$/],
    ['NODE_ENV', 'staging', /^NODE_ENV: must be one of development, production, test$/],
  ])('%s=%s is refused', (name, value, message) => {
    const problems = problemsOf({ [name]: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
  });

  it('never echoes a value back (it may be a secret)', () => {
    const secret = 'postgres-password-s3cr3t';
    const err = (() => {
      try {
        loadConfig({ DATABASE_URL: `mysql://admin:${secret}@db/x`, REDIS_URL: `http://:${secret}@r`, PORT: secret });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toContain('DATABASE_URL');
    expect(err!.message).toContain('REDIS_URL');
    expect(err!.message).not.toContain(secret);
  });
});

describe('starting the server with a bad configuration', () => {
  it('exits non-zero and says what is wrong on stderr', async () => {
    const { code, stdout, stderr } = await run(TSX, ['src/server.ts'], {
      PORT: 'abc',
      Q_LEARNING_ALPHA: '2',
      DATABASE_URL: 'notaurl',
      REFLECT_EMBEDDING_PROVIDER: 'foo',
      NODE_ENV: 'test',
    });
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    expect(stderr).toContain('PORT: must be an integer from 0 to 65535');
    expect(stderr).toContain('Q_LEARNING_ALPHA: must be a number greater than 0 and at most 1');
    expect(stderr).toContain('DATABASE_URL: must be a URL starting with postgres:// or postgresql://');
    expect(stderr).toContain('REFLECT_EMBEDDING_PROVIDER: must be one of local, openai');
    expect(stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(stdout).toBe('');
  }, SLOW_MS);
});
