import type { FastifyInstance } from 'fastify';
import apiKeyRoutes from './apiKeys.js';
import bankRoutes from './banks.js';
import bankTransferRoutes from './bankTransfer.js';
import consoleRoutes from './console.js';
import healthRoutes from './health.js';
import judgeAgreementRoutes from './judgeAgreement.js';
import judgeSettingsRoutes from './judgeSettings.js';
import mcpRoutes from './mcp.js';
import memoryRoutes from './memories.js';
import projectRoutes from './projects.js';
import projectSettingsRoutes from './projectSettings.js';
import skillRoutes from './skills.js';
import reviewQueueRoutes from './reviewQueue.js';
import statsRoutes from './stats.js';
import llmCallRoutes from './llmCalls.js';
import traceRoutes from './traces.js';

/** Every route module; their paths come from the one table in ./paths.ts. */
export default async function routes(app: FastifyInstance): Promise<void> {
  await app.register(healthRoutes);
  await app.register(apiKeyRoutes);
  await app.register(projectRoutes);
  await app.register(projectSettingsRoutes);
  await app.register(judgeSettingsRoutes);
  await app.register(judgeAgreementRoutes);
  await app.register(bankTransferRoutes);
  await app.register(traceRoutes);
  await app.register(reviewQueueRoutes);
  await app.register(statsRoutes);
  await app.register(llmCallRoutes);
  await app.register(memoryRoutes);
  await app.register(skillRoutes);
  await app.register(bankRoutes);
  await app.register(mcpRoutes);
  // Its catch-all page route answers only what no API route does: the router prefers any static or parametric path.
  await app.register(consoleRoutes);
}
