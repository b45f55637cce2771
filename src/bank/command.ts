import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { USER_ID, USER_ID_RULE, PROJECT_SLUG, PROJECT_SLUG_RULE } from '../auth/apiKeys.js';
import { ConfigError, type Config } from '../config.js';
import { ensureProject, ensureUser } from '../db/accounts.js';
import type { Database, Db } from '../db/client.js';
import { ApiError, ValidationError } from '../http/errors.js';
import { StartupError } from '../startupError.js';
import { exportBank } from './export.js';
import { parseBank } from './import.js';
import { importInto, linesOf } from './service.js';

type FindProject = (db: Db, slug: string, user: string | undefined) => Promise<string>;
type WithDatabase = <T>(work: (database: Database, config: Config, findProject: FindProject) => Promise<T>) => Promise<T>;

const EVERY = 1000;

/** `reflect-server export|import --project P [--user U]`: the bank on stdout, or from stdin. */
export async function runBankCommand(command: 'export' | 'import', options: { project: string; user?: string }, withDatabase: WithDatabase): Promise<number> {
  if (!PROJECT_SLUG.test(options.project)) throw new ConfigError([`--project: must be ${PROJECT_SLUG_RULE}`]);
  if (options.user !== undefined && !USER_ID.test(options.user)) throw new ConfigError([`--user: must be ${USER_ID_RULE}`]);
  return command === 'export' ? runExport(options, withDatabase) : runImport(options, withDatabase);
}

async function runExport(options: { project: string; user?: string }, withDatabase: WithDatabase): Promise<number> {
  const lines = await withDatabase(async (database, _config, findProject) => {
    const id = await findProject(database.db, options.project, options.user);
    let written = 0;
    const progress = (n: number, c: Record<string, number>) => {
      written = n;
      if (n % EVERY === 0) process.stderr.write(`Exported ${n} lines (${summary(c)})\n`);
    };
    const generator = exportBank(database.db, { id, slug: options.project }, progress);
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const line of generator) yield `${line}\n`;
        })(),
      ),
      process.stdout,
      { end: false },
    );
    return written;
  });
  process.stderr.write(`Done: exported ${lines} lines of project "${options.project}".\n`);
  return 0;
}

async function runImport(options: { project: string; user?: string }, withDatabase: WithDatabase): Promise<number> {
  try {
    // The whole file is read and checked before the database is even opened: a bad line writes nothing.
    const bank = await parseBank(linesOf(process.stdin), (_stage, n) => process.stderr.write(`Read ${n} lines\n`));
    const done = await withDatabase(async (database, config, findProject) => {
      const projectId = options.user
        ? (await ensureProject(database.db, await ensureUser(database.db, options.user), options.project)).id
        : await findProject(database.db, options.project, undefined);
      if (config.embedding.provider === 'openai' && !config.llm.apiKey) {
        throw new StartupError('REFLECT_EMBEDDING_PROVIDER', 'openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server); set it, or use REFLECT_EMBEDDING_PROVIDER=local');
      }
      const [{ createEmbedder }, { createOpenAIClient }] = await Promise.all([import('../embeddings/index.js'), import('../llm/openaiClient.js')]);
      const embedder = await createEmbedder(config.embedding, createOpenAIClient(config.llm));
      try {
        let reported = 0;
        return await importInto({ db: database.db, pool: database.pool, embedder }, { id: projectId }, bank, (stage, n) => {
          if (stage === 'embedded') process.stderr.write(`Re-embedded ${n} items with ${embedder.model}\n`);
          else if (stage === 'written' && n - reported >= EVERY) {
            reported = n;
            process.stderr.write(`Wrote ${n} rows\n`);
          }
        });
      } finally {
        await embedder.close();
      }
    });
    process.stderr.write(`Done: imported ${summary(done)} into project "${options.project}".\n`);
    return 0;
  } catch (err) {
    if (err instanceof ValidationError) {
      process.stderr.write(`The bank file is not valid; nothing was imported:\n${err.issues.map((i) => `  ${i.msg}`).join('\n')}\n`);
      return 2;
    }
    if (err instanceof ApiError) {
      process.stderr.write(`${err.detail}; nothing was imported.\n`);
      return 2;
    }
    throw err;
  }
}

function summary(counts: object): string {
  return Object.entries(counts as Record<string, number>)
    .map(([k, v]) => `${v} ${k.replace('_', ' ')}`)
    .join(', ');
}
