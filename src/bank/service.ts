import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import type pg from 'pg';
import { PROJECT_SLUG } from '../auth/apiKeys.js';
import type { Principal } from '../auth/service.js';
import { ensureProject } from '../db/accounts.js';
import type { Db } from '../db/client.js';
import { findOwnedProject } from '../db/consolidation.js';
import type { ProjectRow } from '../db/schema.js';
import { ensureVectorIndex } from '../db/vectorSearch.js';
import type { Embedder } from '../embeddings/embedder.js';
import { forbidden, notFound } from '../http/errors.js';
import { exportBank } from './export.js';
import { importBank, parseBank, type ImportProgress, type ImportSummary } from './import.js';

/** The lines of a text stream (a request body, stdin), `\n` or `\r\n` ended. */
export function linesOf(input: NodeJS.ReadableStream): AsyncIterable<string> {
  return createInterface({ input, crlfDelay: Infinity });
}

/** Export and import of a whole project (memories, history, mental models, directives, Skills), for a master key. */
export function createBankTransferService(deps: { db: Db; pool: pg.Pool; embedder: Embedder }) {
  const { db } = deps;

  function requireMaster(principal: Principal) {
    if (!principal.isMaster) throw forbidden('Export and import need a master key');
  }

  return {
    /** The bank as an NDJSON stream (one line per row, each ended by a newline). */
    async export(principal: Principal, slugOrId: string): Promise<Readable> {
      requireMaster(principal);
      const project = await findOwnedProject(db, principal.userId, slugOrId);
      if (!project) throw notFound('Project');
      return Readable.from(
        (async function* () {
          for await (const line of exportBank(db, project)) yield `${line}\n`;
        })(),
      );
    },

    /** Imports into the named project (created if new); it must hold no memories etc. yet. */
    async import(principal: Principal, slugOrId: string, body: NodeJS.ReadableStream): Promise<ImportSummary & { project_id: string }> {
      requireMaster(principal);
      const bank = await parseBank(linesOf(body));
      const existing = await findOwnedProject(db, principal.userId, slugOrId);
      if (!existing && !PROJECT_SLUG.test(slugOrId)) throw notFound('Project');
      const project = existing ?? (await ensureProject(db, principal.userId, slugOrId));
      return { project_id: project.id, ...(await importInto(deps, project, bank)) };
    },
  };
}

/** The import itself, shared with the CLI. */
export async function importInto(
  deps: { db: Db; pool: pg.Pool; embedder: Embedder },
  project: Pick<ProjectRow, 'id'>,
  bank: Awaited<ReturnType<typeof parseBank>>,
  onProgress?: ImportProgress,
): Promise<ImportSummary> {
  await ensureVectorIndex(deps.pool, deps.embedder.model, deps.embedder.dimensions);
  return importBank(deps, project.id, bank, onProgress);
}

export type BankTransferService = ReturnType<typeof createBankTransferService>;
