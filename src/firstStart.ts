import type { FastifyInstance } from 'fastify';
import { countUsers } from './db/accounts.js';

/**
 * On the embedded default's first start (empty database, not production), mint one master key
 * and show how to use it, so a newcomer can call the API without reading about bootstrap.
 */
export async function announceFirstKey(app: FastifyInstance, baseUrl: string): Promise<void> {
  if (app.database.kind !== 'embedded' || app.config.env === 'production') return;
  if ((await countUsers(app.database.db)) > 0) return;
  const key = await app.auth.createMasterKey({ userId: 'local', projectId: 'default', label: 'First-start key', environment: 'live' });
  const lines = [
    '',
    'First start: a master key was created for user "local" (shown only this once):',
    '',
    `  export REFLECT_API_KEY=${key.api_key}`,
    `  curl -H "Authorization: Bearer $REFLECT_API_KEY" ${baseUrl}/v1/traces`,
    '',
    `Console: ${baseUrl}/  (sign in with the key above)`,
    `API docs: ${baseUrl}/docs`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}
