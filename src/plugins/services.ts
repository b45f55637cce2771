import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { createBankTransferService, type BankTransferService } from '../bank/service.js';
import { ensureVectorIndex } from '../db/vectorSearch.js';
import { createJudgeAgreementService, type JudgeAgreementService } from '../judge/agreement.js';
import { createJudgeBacklogService, type JudgeBacklogService } from '../judge/backlog.js';
import { createJudgeSettingsService, type JudgeSettingsService } from '../judge/settings.js';
import { createMemoryService, type MemoryService } from '../memories/service.js';
import { createProjectService, type ProjectService } from '../projects/service.js';
import { createProjectSettingsService, type ProjectSettingsService } from '../projects/settings.js';
import { createLlmGuideWriter, createTemplateGuideWriter } from '../skills/guide.js';
import { createSkillService, type SkillService } from '../skills/service.js';
import { createReviewQueueService, type ReviewQueueService } from '../reviewQueue/service.js';
import { createStatsService, type StatsService } from '../stats/service.js';
import { createLlmCallService, type LlmCallService } from '../llm/usage/service.js';
import { createDirectiveService, type DirectiveService } from '../reflect/directives.js';
import { createMentalModelService, type MentalModelService } from '../reflect/mentalModels.js';
import { createReflectService, type ReflectService } from '../reflect/service.js';
import { createSecretRedactor } from '../security/secrets.js';
import { createTraceService, type TraceService } from '../traces/service.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    traces: TraceService;
    projects: ProjectService;
    projectSettings: ProjectSettingsService;
    judgeAgreement: JudgeAgreementService;
    judgeSettings: JudgeSettingsService;
    judgeBacklog: JudgeBacklogService;
    skills: SkillService;
    reviewQueue: ReviewQueueService;
    stats: StatsService;
    llmCalls: LlmCallService;
    memories: MemoryService;
    reflect: ReflectService;
    mentalModels: MentalModelService;
    directives: DirectiveService;
    bankTransfer: BankTransferService;
  }
}

/** The domain services, built once from the infrastructure plugins. */
export default fp(
  async function services(app: FastifyInstance) {
    await ensureVectorIndex(app.database.pool, app.embedder.model, app.embedder.dimensions);
    const redactor = createSecretRedactor(app.config.redactSecrets);
    app.decorate('traces', createTraceService({ db: app.database.db, queue: app.queue, defaultAlpha: app.config.qLearningAlpha, redactor }));
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
    app.decorate('projectSettings', createProjectSettingsService({ db: app.database.db, defaults: app.config.consolidation }));
    app.decorate('judgeAgreement', createJudgeAgreementService({ db: app.database.db }));
    app.decorate(
      'judgeSettings',
      createJudgeSettingsService({ db: app.database.db, llmConfigured: app.openai !== undefined, defaultModel: app.config.llm.model }),
    );
    app.decorate('judgeBacklog', createJudgeBacklogService({ db: app.database.db, queue: app.queue, llmConfigured: app.openai !== undefined }));
    const skills = createSkillService({
      db: app.database.db,
      writer: app.openai ? createLlmGuideWriter({ client: app.openai, model: app.config.llm.model }) : createTemplateGuideWriter(),
      maxMemories: app.config.skill.maxMemories,
      log: app.log.child({ component: 'skills' }),
    });
    app.decorate('skills', skills);
    app.addHook('onClose', () => skills.close());
    app.decorate('stats', createStatsService({ db: app.database.db }));
    app.decorate('llmCalls', createLlmCallService({ db: app.database.db }));
    app.decorate('memories', createMemoryService({ db: app.database.db, embedder: app.embedder, retrieval: app.config.retrieval, redactor }));
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
    app.decorate('bankTransfer', createBankTransferService({ db: app.database.db, pool: app.database.pool, embedder: app.embedder }));
  },
  { name: 'services', dependencies: ['database', 'queue', 'embedder', 'llm'] },
);
