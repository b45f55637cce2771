import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { ensureVectorIndex } from '../db/vectorSearch.js';
import { createMemoryService, type MemoryService } from '../memories/service.js';
import { createProjectService, type ProjectService } from '../projects/service.js';
import { createReviewQueueService, type ReviewQueueService } from '../reviewQueue/service.js';
import { createStatsService, type StatsService } from '../stats/service.js';
import { createDirectiveService, type DirectiveService } from '../reflect/directives.js';
import { createMentalModelService, type MentalModelService } from '../reflect/mentalModels.js';
import { createReflectService, type ReflectService } from '../reflect/service.js';
import { createTraceService, type TraceService } from '../traces/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    traces: TraceService;
    projects: ProjectService;
    reviewQueue: ReviewQueueService;
    stats: StatsService;
    memories: MemoryService;
    reflect: ReflectService;
    mentalModels: MentalModelService;
    directives: DirectiveService;
  }
}

/** The domain services, built once from the infrastructure plugins. */
export default fp(
  async function services(app: FastifyInstance) {
    await ensureVectorIndex(app.database.pool, app.embedder.model, app.embedder.dimensions);
    app.decorate('traces', createTraceService({ db: app.database.db, queue: app.queue, defaultAlpha: app.config.qLearningAlpha }));
    app.decorate(
      'reviewQueue',
      createReviewQueueService({
        db: app.database.db,
        queue: app.queue,
        traces: app.traces,
        defaultAlpha: app.config.qLearningAlpha,
        leaseMs: app.config.reviewLeaseMs,
      }),
    );
    app.decorate('projects', createProjectService({ db: app.database.db }));
    app.decorate('stats', createStatsService({ db: app.database.db }));
    app.decorate('memories', createMemoryService({ db: app.database.db, embedder: app.embedder, retrieval: app.config.retrieval }));
    const reflect = createReflectService({
      db: app.database.db,
      embedder: app.embedder,
      openai: app.openai,
      model: app.config.llm.model,
      timeoutMs: app.config.reflect.timeoutMs,
    });
    app.decorate('reflect', reflect);
    app.decorate('mentalModels', createMentalModelService({ db: app.database.db, embedder: app.embedder, reflect }));
    app.decorate('directives', createDirectiveService({ db: app.database.db }));
  },
  { name: 'services', dependencies: ['database', 'queue', 'embedder', 'llm'] },
);
