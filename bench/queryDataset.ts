/**
 * The query bench's data: its own user and projects (named by a run id), memories whose vectors
 * cluster around real MiniLM vectors of agent-task sentences, and — for the index sweep — a copy
 * of the same vectors under a model name of the bench's own, so index variants can be built and
 * dropped without touching the app's indexes. Everything here is scoped to the run: it never
 * drops or alters anything it did not create, so the bench is safe on a database holding other
 * data and can run twice in a row on the same one.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteLiteral } from '../src/db/vectorSearch.js';
import type { Embedder } from '../src/embeddings/embedder.js';
import { seededRandom } from '../src/benchLearning/scenarios.js';

export const DIMENSIONS = 384;
const CENTRES = 200;
const BATCH = 1_000;

/** Sizes of the extra projects of a multi-project dataset, for the exact-search cross-over. */
export const SMALL_PROJECT_SIZES = [500, 1_000, 2_000, 4_000, 8_000] as const;

export interface DatasetSpec {
  /** Memories in all. */
  size: number;
  /** 1: one project holds them all. More: the query project holds size ÷ projects, the rest hold the others (some small). */
  projects: number;
  seed: number;
}

export interface BenchDataset {
  spec: DatasetSpec;
  runId: string;
  /** `users.external_id` of the bench's own user: deleting it removes everything the run made. */
  userExternalId: string;
  /** A master key of the query project. */
  key: string;
  projects: { id: string; slug: string; size: number }[];
  queryProjectId: string;
  /** Model name of the sweep copy (`bench:<run id>`): only the bench's own index variants cover it. */
  sweepModel: string;
  centreTexts: string[];
  loadMs: number;
}

/** A seeded generator, so a dataset is the same for the same seed (the learning benchmark's). */
export const rng = seededRandom;

export class Texts {
  private readonly random: () => number;
  private fresh = 0;
  constructor(seed: number) {
    this.random = rng(seed);
  }
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }
  gaussian(): number {
    return Math.sqrt(-2 * Math.log(1 - this.random())) * Math.cos(2 * Math.PI * this.random());
  }
  uniform(): number {
    return this.random();
  }
  task(): string {
    return this.pick(TEMPLATES).replace(/\{(\w+)\}/g, (_, slot: string) => this.pick(SLOTS[slot]!));
  }
  /** A query text: a task with an aside. */
  query(): string {
    return `${this.task()} ${this.pick(ASIDES)}`;
  }
  /** A text the embedding cache has never seen. */
  freshQuery(): string {
    return `${this.query()} (ticket ${++this.fresh})`;
  }
  /** A point of the cluster around `centre`: cosine to the centre ~0.64–0.86. */
  around(centre: readonly number[]): number[] {
    const scale = (0.6 + 0.6 * this.random()) / Math.sqrt(DIMENSIONS);
    const v = centre.map((x) => x + scale * this.gaussian());
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  }
}

export const vectorText = (v: readonly number[]) => `[${v.map((x) => x.toPrecision(7)).join(',')}]`;

/** Project sizes: the query project first. */
export function projectSizes(spec: DatasetSpec): number[] {
  if (spec.projects <= 1) return [spec.size];
  const query = Math.floor(spec.size / spec.projects);
  const small = SMALL_PROJECT_SIZES.filter((s) => s < query).slice(0, spec.projects - 2);
  const restCount = spec.projects - 1 - small.length;
  const rest = spec.size - query - small.reduce((a, b) => a + b, 0);
  if (rest < restCount) throw new Error(`dataset too small for ${spec.projects} projects: ${spec.size}`);
  const big = Array.from({ length: restCount }, (_, i) => Math.floor(rest / restCount) + (i < rest % restCount ? 1 : 0));
  return [query, ...small, ...big];
}

/**
 * Creates the run's user and projects and loads the memories (the local model's name, so the
 * app's own index and search apply) plus the sweep copy. `embed` gives the cluster centres.
 */
export interface SeedDeps {
  pool: pg.Pool;
  embedder: Embedder;
  /** The app's own way to create a user, a project and a master key (auth service or app.auth). */
  createMasterKey(input: { userId: string; projectId: string; label: string; environment: 'live' }): Promise<{ api_key: string }>;
}

export async function seedDataset(
  deps: SeedDeps,
  spec: DatasetSpec,
  options: { runId?: string; onProgress?: (line: string) => void } = {},
): Promise<BenchDataset> {
  const { pool, embedder } = deps;
  const runId = options.runId ?? randomBytes(4).toString('hex');
  const userExternalId = `bench-${runId}`;
  const texts = new Texts(spec.seed);
  const centreTexts = Array.from({ length: CENTRES }, () => texts.task());
  const centres = await embedder.embed(centreTexts);
  const sizes = projectSizes(spec);
  const projects: BenchDataset['projects'] = [];
  let key = '';
  const start = performance.now();
  for (const [i, size] of sizes.entries()) {
    const slug = `p${i}-${size}`;
    const created = await deps.createMasterKey({ userId: userExternalId, projectId: slug, label: 'bench', environment: 'live' });
    if (i === 0) key = created.api_key;
    const { rows } = await pool.query<{ id: string }>(
      `SELECT p.id FROM projects p JOIN users u ON u.id = p.owner_user_id WHERE u.external_id = $1 AND p.slug = $2`,
      [userExternalId, slug],
    );
    projects.push({ id: rows[0]!.id, slug, size });
  }
  let loaded = 0;
  for (const project of projects) {
    for (let from = 0; from < project.size; from += BATCH) {
      const count = Math.min(BATCH, project.size - from);
      const tasks: string[] = [];
      const vectors: string[] = [];
      const clusters: number[] = [];
      for (let i = 0; i < count; i++) {
        const c = Math.floor(texts.uniform() * CENTRES);
        tasks.push(`${centreTexts[c]} — variant ${from + i}`);
        vectors.push(vectorText(texts.around(centres[c]!)));
        clusters.push(c);
      }
      await pool.query(
        `INSERT INTO memories (project_id, task, reflection, embedding, embedding_model, metadata, tags)
         SELECT $1::uuid, u.task, 'Synthetic lesson for the benchmark.', u.embedding::vector, $2, jsonb_build_object('cluster', u.cluster), ARRAY['bench']
         FROM unnest($3::text[], $4::text[], $5::int[]) AS u(task, embedding, cluster)`,
        [project.id, embedder.model, tasks, vectors, clusters],
      );
      loaded += count;
      if ((loaded / BATCH) % 10 === 0) options.onProgress?.(`loaded ${loaded} of ${spec.size} rows`);
    }
  }
  const sweepModel = `bench:${runId}`;
  return {
    spec,
    runId,
    userExternalId,
    key,
    projects,
    queryProjectId: projects[0]!.id,
    sweepModel,
    centreTexts,
    loadMs: performance.now() - start,
  };
}

/** Copies the vectors under the run's own model name (once), for the index variants of the sweep. */
export async function ensureSweepCopy(pool: pg.Pool, dataset: BenchDataset, model: string): Promise<void> {
  const ids = dataset.projects.map((p) => p.id);
  const { rows } = await pool.query(`SELECT 1 FROM memories WHERE project_id = ANY($1::uuid[]) AND embedding_model = $2 LIMIT 1`, [ids, dataset.sweepModel]);
  if (rows.length) return;
  // The copy's task is the original's id, so recall is counted against the originals' exact top-k.
  await pool.query(
    `INSERT INTO memories (project_id, task, reflection, embedding, embedding_model)
     SELECT project_id, id::text, '', embedding, $2 FROM memories WHERE project_id = ANY($1::uuid[]) AND embedding_model = $3`,
    [ids, dataset.sweepModel, model],
  );
  await pool.query('ANALYZE memories');
}

/** An index variant of the sweep: its name and predicate belong to this run alone. */
export function sweepIndexName(dataset: Pick<BenchDataset, 'runId'>, m: number, efConstruction: number): string {
  return `bench_${dataset.runId}_hnsw_m${m}_efc${efConstruction}`;
}

/**
 * A condition every sweep-copy row meets (q_value stays 0.5) that names one variant: it is part of
 * that variant's predicate and of the queries meant for it, so each query can use only its own
 * variant and all variants can stay built side by side.
 */
export function variantCondition(m: number, efConstruction: number): string {
  return `q_value <> ${-(m * 10_000 + efConstruction)}`;
}

/** Builds one HNSW variant over the sweep copy; returns its name, build time and size. */
export async function buildSweepIndex(
  pool: pg.Pool,
  dataset: BenchDataset,
  m: number,
  efConstruction: number,
): Promise<{ name: string; buildMs: number; bytes: number }> {
  const name = sweepIndexName(dataset, m, efConstruction);
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // SET LOCAL: the embedded engine shares one session between all connections.
    await client.query(`SET LOCAL maintenance_work_mem = '512MB'`);
    const start = performance.now();
    await client.query(
      `CREATE INDEX IF NOT EXISTS ${name} ON memories USING hnsw ((embedding::vector(${DIMENSIONS})) vector_cosine_ops)
       WITH (m = ${m}, ef_construction = ${efConstruction})
       WHERE embedding_model = ${quoteLiteral(dataset.sweepModel)} AND ${variantCondition(m, efConstruction)}`,
    );
    const buildMs = performance.now() - start;
    await client.query('COMMIT');
    const { rows } = await client.query<{ bytes: string }>(`SELECT pg_relation_size($1::regclass) AS bytes`, [name]);
    return { name, buildMs, bytes: Number(rows[0]!.bytes) };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** Drops an index of this run's sweep, and refuses any other. */
export async function dropSweepIndex(pool: pg.Pool, dataset: BenchDataset, name: string): Promise<void> {
  if (!name.startsWith(`bench_${dataset.runId}_`)) throw new Error(`refusing to drop ${name}: not an index of bench run ${dataset.runId}`);
  await pool.query(`DROP INDEX IF EXISTS ${name}`);
}

/** Removes everything the run made: its index variants, then its user (projects, keys and memories cascade). */
export async function removeDataset(pool: pg.Pool, dataset: BenchDataset): Promise<void> {
  const { rows } = await pool.query<{ indexname: string }>(
    `SELECT indexname FROM pg_indexes WHERE tablename = 'memories' AND indexname LIKE $1`,
    [`bench\\_${dataset.runId}\\_%`],
  );
  for (const r of rows) await dropSweepIndex(pool, dataset, r.indexname);
  await pool.query(`DELETE FROM users WHERE external_id = $1`, [dataset.userExternalId]);
}

// ---------------------------------------------------------------------------------------------
// Texts: agent tasks from templates (the centres), query texts near them

const TEMPLATES = [
  'Count the {entity} created in {month} using the {table} table',
  'Speed up the slow SQL join between {table} and {table2}',
  'Write a migration that adds a {column} column to the {table} table',
  'Find duplicate {entity} in the {table} table and keep the newest',
  'Delete log files older than {n} days on the {service} server',
  'Find which process is listening on port {port} on the {service} host',
  'Scrape {entity} and prices from the {site} website',
  'Handle rate limiting while crawling {site} with exponential backoff',
  'Reply to a customer asking for a refund on {product}',
  'Help a user who cannot log in to the {service} dashboard',
  'Review a pull request that changes the {service} billing code',
  'Book the cheapest flight from {city} to {city2} in {month}',
  'Find a hotel near the conference centre in {city}',
  'Debug a Kubernetes pod of the {service} service stuck in CrashLoopBackOff',
  'Reduce the Docker image size of the {service} service',
  'Renew the expired TLS certificate of {site}',
  'Plot {entity} per day from the {table} export',
  'Summarise the email thread about {product} into bullet points',
  'Translate the {product} manual from {language} into English',
  'Solve a {mathTopic} exercise and show every step',
  'Resolve a merge conflict in the {service} repository',
  'Rotate leaked API keys of the {service} service',
  'Schedule a meeting about {product} with colleagues in {city} and {city2}',
  'Write a regular expression that extracts {entity} from {service} logs',
  'Load the {table} CSV into pandas and drop rows with missing {column}',
];
const SLOTS: Record<string, string[]> = {
  entity: ['orders', 'users', 'invoices', 'sessions', 'payments', 'tickets', 'reviews', 'events', 'products', 'emails'],
  table: ['orders', 'accounts', 'invoices', 'payments', 'shipments', 'events', 'customers', 'subscriptions'],
  table2: ['refunds', 'line_items', 'addresses', 'audit_log', 'coupons', 'warehouses'],
  column: ['phone', 'country', 'discount', 'status', 'timezone', 'currency'],
  month: ['January', 'March', 'April', 'June', 'September', 'October', 'December'],
  n: ['3', '7', '14', '30', '90'],
  service: ['checkout', 'search', 'auth', 'notifications', 'analytics', 'inventory', 'payments', 'gateway'],
  port: ['8080', '5432', '3000', '443', '6379'],
  site: ['an online bookshop', 'a news portal', 'a real-estate listing', 'a travel agency', 'a sports shop', 'a recipe blog'],
  product: ['a damaged blender', 'late running shoes', 'a faulty router', 'the annual plan', 'a broken phone case', 'a missing parcel'],
  city: ['Paris', 'Tokyo', 'Berlin', 'Lisbon', 'New York', 'Madrid', 'Seoul', 'Toronto'],
  city2: ['London', 'Sydney', 'Rome', 'Chicago', 'Oslo', 'Mumbai', 'Dublin'],
  language: ['German', 'Spanish', 'Japanese', 'French', 'Italian'],
  mathTopic: ['quadratic equation', 'compound interest', 'probability', 'derivative', 'integral', 'linear algebra'],
};
const ASIDES = ['urgently', 'for the Monday report', 'again after the last attempt failed', 'for a new client', 'before the release', 'as asked by the team lead'];
