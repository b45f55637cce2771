import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ENV_VARIABLES } from '../../src/config.js';

// No Docker engine runs here: the deployment files are read as an operator would read them,
// and the commands the image runs (serve, api, worker, migrate) are exercised by other tests.
const root = new URL('../../', import.meta.url);
const read = (file: string) => readFileSync(new URL(file, root), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, Service>; volumes: Record<string, unknown> };
const services = compose.services;

describe('docker-compose.yml', () => {
  it('runs PostgreSQL with pgvector 18 and Redis with append-only persistence, each on a volume with a healthcheck', () => {
    expect(services.postgres!.image).toBe('pgvector/pgvector:pg18');
    expect(services.postgres!.volumes).toContain('pgdata:/var/lib/postgresql');
    expect(String(services.postgres!.healthcheck!.test)).toContain('pg_isready');
    expect(services.redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(services.redis!.volumes).toContain('redisdata:/data');
    expect(services.redis!.healthcheck!.test).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(Object.keys(compose.volumes)).toEqual(expect.arrayContaining(['pgdata', 'redisdata']));
  });

  it('applies migrations once, before the API and workers start', () => {
    expect(services.migrate!.command).toEqual(['migrate']);
    expect(services.migrate!.restart).toBe('no');
    expect(services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['api', 'worker']) {
      expect(services[name]!.depends_on).toEqual({
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
    }
  });

  it('separates the API (published port) from scalable workers (no fixed port or name)', () => {
    expect(services.api!.command).toEqual(['api']);
    expect(services.api!.ports).toEqual(['${PORT:-8000}:8000']);
    expect(services.worker!.command).toEqual(['worker']);
    expect(services.worker!.ports).toBeUndefined();
    expect(services.worker).not.toHaveProperty('container_name');
    const image = services.migrate!.image;
    expect(services.api!.image).toBe(image);
    expect(services.worker!.image).toBe(image);
  });

  it('gives every app container the same configuration, all of it variables the server reads', () => {
    const env = services.api!.environment!;
    expect(services.worker!.environment).toEqual(env);
    expect(services.migrate!.environment).toEqual(env);
    expect(env.DATABASE_URL).toMatch(/^postgresql:\/\/reflect:.*@postgres:5432\/reflect$/);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    for (const name of Object.keys(env)) expect(ENV_VARIABLES).toContain(name);
  });

  it('documents every variable it interpolates in .env.example', () => {
    const used = new Set([...read('docker-compose.yml').matchAll(/\$\{([A-Z_]+)/g)].map((m) => m[1]!));
    const documented = new Set([...read('.env.example').matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]!));
    for (const name of used) expect(documented, `${name} missing from .env.example`).toContain(name);
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  it('builds in stages, runs as a non-root user, with a healthcheck and the tested CLI entry point', () => {
    expect(dockerfile.match(/^FROM node:20-/gm)!.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^HEALTHCHECK .*\n?.*\/health/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/reflect-server\.mjs"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve"\]$/m);
    expect(dockerfile).toMatch(/HOST=0\.0\.0\.0/);
  });

  it('copies everything the entry point needs at run time', () => {
    for (const path of ['bin', 'src', 'migrations', 'package.json']) expect(dockerfile).toMatch(new RegExp(`^COPY .*${path}`, 'm'));
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', '.reflect-data', '.env']));
  });
});
