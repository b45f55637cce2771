import { parseArgs } from 'node:util';
import { ENVIRONMENTS, PROJECT_SLUG, PROJECT_SLUG_RULE, USER_ID, USER_ID_RULE, type Environment } from '../auth/apiKeys.js';
import { createAuthService } from '../auth/service.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { projectsWithSlug } from '../db/accounts.js';
import { openDatabase, type Db } from '../db/client.js';
import { runMigrations } from '../db/migrate.js';
import { StartupError } from '../startupError.js';

/** The server and the embedders load lazily: `--help` and `keys create` should not pay for them. */
const runServer: typeof import('../server.js').runServer = async (...args) => (await import('../server.js')).runServer(...args);

const ENVIRONMENT_NOTE = 'Configuration comes from the environment (see README.md, or .env.example).';

/** Each command's help, shown by `reflect-server <command> --help`. */
const COMMANDS: Record<string, { summary: string; details?: string }> = {
  serve: {
    summary: 'API and background worker in one process (the default)',
    details: 'Uses embedded PostgreSQL in REFLECT_DATA_DIR unless DATABASE_URL is set, and an in-process\njob queue unless REDIS_URL is set. Listens on HOST:PORT (127.0.0.1:8000).',
  },
  api: {
    summary: 'API only; run workers separately',
    details: 'Needs REDIS_URL (the queue the workers read) and, for more than one process, DATABASE_URL.',
  },
  worker: {
    summary: 'Background worker only: processes reviews into memories',
    details: 'Needs REDIS_URL. Serves only /health, /ready (and /metrics if enabled) on PORT.\nREFLECT_WORKER_CONCURRENCY sets how many reviews it processes at once.',
  },
  migrate: { summary: 'Apply database migrations and exit (safe while other processes start)' },
  'keys create': {
    summary: 'Mint a master key without HTTP and print it once',
    details: [
      '--user <id>         user id (created if new)            [required]',
      '--project <slug>    project slug (created if new)       [default: default]',
      '--label <text>      key label                           [default: CLI key]',
      '--environment <e>   live or test                        [default: live]',
      '',
      'Works while the server runs on the same data folder: it then uses that server\'s database.',
    ].join('\n'),
  },
  'bench learning': {
    summary: 'Learning benchmark over HTTP: Q-ranking vs similarity (run with --help for options)',
  },
  export: {
    summary: 'Write a project\'s bank (memories, history, mental models, directives, Skills) as JSON Lines to stdout',
    details: ['--project <slug>    the project                         [required]', '--user <id>         the project\'s owner (when several users have that slug)'].join('\n'),
  },
  import: {
    summary: 'Read a bank file (JSON Lines) from stdin into an empty project: all of it or nothing',
    details: [
      '--project <slug>    the project                         [required]',
      '--user <id>         the owner; with it the project (and user) is created if new',
      '',
      'Vectors of another embedding model than this server\'s are re-embedded. Works while the server runs.',
    ].join('\n'),
  },
  reembed: {
    summary: 'Re-embed memories with the active embedding model, showing progress',
    details: ['--project <slug>    only this project', '--user <id>         the project\'s owner (when several users have that slug)'].join('\n'),
  },
};

const USAGE = [
  'Usage: reflect-server <command> [options]',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(16)}${c.summary}`),
  '',
  'Run `reflect-server <command> --help` for a command\'s options.',
  ENVIRONMENT_NOTE,
].join('\n');

function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  const details = c.details ? `\n\n${c.details.replace(/^/gm, '  ')}` : '';
  return `Usage: reflect-server ${name}${c.details?.startsWith('--') ? ' [options]' : ''}\n\n${c.summary}.${details}\n\n${ENVIRONMENT_NOTE}`;
}

/**
 * The database for one command. With the embedded engine, while a server owns the data folder
 * the command works through that server's engine (its socket), never starting a second one.
 */
async function withDatabase<T>(config: Config, command: string, work: (db: Awaited<ReturnType<typeof openDatabase>>) => Promise<T>): Promise<T> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    poolSize: 2,
    command,
    useRunningEngine: true,
    connectAttempts: config.databaseConnect.attempts,
    connectBackoffMs: config.databaseConnect.backoffMs,
    onConnectRetry: ({ attempt, attempts, delayMs }) =>
      process.stderr.write(`DATABASE_URL: not reachable yet (attempt ${attempt} of ${attempts}); trying again in ${delayMs} ms\n`),
  });
  try {
    await runMigrations(database.pool);
    return await work(database);
  } finally {
    await database.close();
  }
}

async function findProjectId(db: Db, slug: string, user: string | undefined): Promise<string> {
  const matches = await projectsWithSlug(db, slug, user);
  if (matches.length === 0) throw new ConfigError([`--project: no project "${slug}"${user ? ` of user "${user}"` : ''}`]);
  if (matches.length > 1) throw new ConfigError([`--project: several users have a project "${slug}"; add --user`]);
  return matches[0]!;
}

async function main(argv: string[]): Promise<number> {
  // The benchmark parses its own options (and loads its own modules only when asked for).
  if (argv[0] === 'bench') return (await import('../benchLearning/command.js')).benchCommand(argv.slice(1));
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      user: { type: 'string' },
      project: { type: 'string' },
      label: { type: 'string', default: 'CLI key' },
      environment: { type: 'string', default: 'live' },
    },
  });
  const command = positionals.join(' ') || 'serve';
  if (values.help) {
    process.stdout.write(`${positionals.length && COMMANDS[command] ? commandHelp(command) : USAGE}\n`);
    return 0;
  }
  const config = loadConfig();

  switch (command) {
    case 'serve':
      await runServer(() => config);
      return -1;
    case 'api':
    case 'worker':
      if (!config.redisUrl) throw new ConfigError([`REDIS_URL: required by "${command}" (separate processes share the queue through Redis)`]);
      await runServer(() => config, command);
      return -1;
    case 'migrate':
      await withDatabase(config, command, async () => {});
      process.stdout.write('Migrations applied.\n');
      return 0;
    case 'keys create': {
      // The same rules as POST /v1/bootstrap, so the key's project can be named in X-Project-Id.
      const problems = [
        ...(!values.user ? ['--user: required (the user id the key belongs to)'] : []),
        ...(values.user && !USER_ID.test(values.user) ? [`--user: must be ${USER_ID_RULE}`] : []),
        ...(values.project !== undefined && !PROJECT_SLUG.test(values.project) ? [`--project: must be ${PROJECT_SLUG_RULE}`] : []),
        ...(!values.label!.trim() ? ['--label: must not be empty'] : []),
        ...(!ENVIRONMENTS.includes(values.environment as Environment) ? ['--environment: must be live or test'] : []),
      ];
      if (problems.length) throw new ConfigError(problems);
      const key = await withDatabase(config, command, (database) =>
        createAuthService(database.db).createMasterKey({
          userId: values.user!,
          projectId: values.project ?? 'default',
          label: values.label!,
          environment: values.environment as Environment,
        }),
      );
      process.stdout.write(`${key.api_key}\n`);
      process.stderr.write(`Master key ${key.key_prefix} for user "${key.user_id}", project "${key.project_id}". It is shown only once.\n`);
      return 0;
    }
    case 'reembed': {
      if (config.embedding.provider === 'openai' && !config.llm.apiKey) {
        throw new StartupError('REFLECT_EMBEDDING_PROVIDER', 'openai needs OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible server); set it, or use REFLECT_EMBEDDING_PROVIDER=local');
      }
      const done = await withDatabase(config, command, async (database) => {
        const projectId = values.project ? await findProjectId(database.db, values.project, values.user) : undefined;
        const [{ createEmbedder }, { createOpenAIClient }, { reembedMemories }] = await Promise.all([
          import('../embeddings/index.js'),
          import('../llm/openaiClient.js'),
          import('../memories/reembed.js'),
        ]);
        const embedder = await createEmbedder(config.embedding, createOpenAIClient(config.llm));
        try {
          return await reembedMemories(
            { db: database.db, pool: database.pool, embedder },
            { projectId, onProgress: (n, total) => process.stderr.write(`\rRe-embedded ${n}/${total} memories with ${embedder.model}`) },
          );
        } finally {
          await embedder.close();
        }
      });
      process.stderr.write(`\nDone: ${done} memories re-embedded.\n`);
      return 0;
    }
    case 'export':
    case 'import': {
      if (!values.project) throw new ConfigError(['--project: required (the project\'s slug)']);
      const { runBankCommand } = await import('../bank/command.js');
      return runBankCommand(command, { project: values.project, user: values.user }, (work) =>
        withDatabase(config, command, async (database) => work(database, config, (db, slug, user) => findProjectId(db, slug, user))),
      );
    }
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 2;
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  if (err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}\n`);
    process.exit(2);
  }
  if (err instanceof StartupError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
