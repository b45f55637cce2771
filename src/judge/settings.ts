import type { Principal } from '../auth/service.js';
import type { Db } from '../db/client.js';
import { countJudgeBacklog, updateJudgeSettings, type JudgeSettingsRow } from '../db/judge.js';
import { ApiError, ValidationError } from '../http/errors.js';
import { resolveAddressedProject } from '../projects/settings.js';
import { DEFAULT_JUDGE_ALPHA, type JudgeSettingsWire, type UpdateJudgeSettingsBody } from './settingsModels.js';

export const llmNotConfigured = () =>
  new ApiError(400, 'llm_not_configured', 'The judge needs an LLM: set OPENAI_API_KEY (and OPENAI_BASE_URL for another OpenAI-compatible server)');

/** A project's judge: its own settings over the server's defaults. */
export function createJudgeSettingsService(deps: { db: Db; llmConfigured: boolean; defaultModel: string }) {
  const { db } = deps;

  const wire = async (p: JudgeSettingsRow): Promise<JudgeSettingsWire> => ({
    project_id: p.id,
    slug: p.slug,
    enabled: p.judgeEnabled,
    rubric: p.judgeRubric,
    model: p.judgeModel,
    alpha: p.judgeAlpha,
    metadata_filter: p.judgeMetadataFilter,
    effective: { model: p.judgeModel ?? deps.defaultModel, alpha: p.judgeAlpha ?? DEFAULT_JUDGE_ALPHA },
    backlog: await countJudgeBacklog(db, p.id, p.judgeMetadataFilter),
  });

  return {
    async get(principal: Principal, slugOrId: string): Promise<JudgeSettingsWire> {
      return wire(await resolveAddressedProject(db, principal, slugOrId));
    },

    /** Nothing is written when the change is refused. */
    async update(principal: Principal, slugOrId: string, body: UpdateJudgeSettingsBody): Promise<JudgeSettingsWire> {
      const project = await resolveAddressedProject(db, principal, slugOrId);
      const enabled = body.enabled ?? project.judgeEnabled;
      if (body.enabled && !deps.llmConfigured) throw llmNotConfigured();
      const rubric = body.rubric === undefined ? project.judgeRubric : body.rubric;
      if (enabled && !rubric?.trim()) {
        throw new ValidationError([
          { loc: ['body', 'rubric'], msg: 'The judge needs a rubric while it is enabled', type: 'missing' },
        ]);
      }
      const row = await updateJudgeSettings(db, project.id, {
        judgeEnabled: body.enabled,
        judgeRubric: body.rubric,
        judgeModel: body.model,
        judgeAlpha: body.alpha,
        judgeMetadataFilter: body.metadata_filter,
      });
      return wire(row);
    },
  };
}

export type JudgeSettingsService = ReturnType<typeof createJudgeSettingsService>;
