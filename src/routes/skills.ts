import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { requestContext } from '../plugins/auth.js';
import { buildSkillBody, skill, skillVersionQuery } from '../skills/models.js';
import { toSkillWire } from '../skills/service.js';
import { PATHS } from './paths.js';

const tags = ['skills'];

const skillRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.skill) {
    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: "The project's Skill (SDK get_skill): the latest ready version, or ?version=N (any status, to poll a build)",
          tags,
          querystring: skillVersionQuery,
          response: { 200: skill, 404: errorBody, ...authErrors },
        },
      },
      async (request) => toSkillWire(await app.skills.get(requestContext(request).project, request.query.version)),
    );

    app.post(
      url,
      {
        config: { scope: 'memories:write' },
        schema: {
          summary:
            "Build the project's Skill, or refine it into a new version, in the background: 202 with the version to poll. A build already running is returned instead of starting another. Needs at least 5 reviewed memories (409 below)",
          tags,
          body: buildSkillBody,
          response: { 202: skill, 409: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const { project, principal } = requestContext(request);
        const { row } = await app.skills.start(project, { keyId: principal.keyRowId, label: principal.label }, request.body.instructions ?? null);
        return reply.code(202).send(toSkillWire(row));
      },
    );
  }

  for (const url of PATHS.skillMarkdown) {
    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: "The project's Skill as a Markdown file to download: the latest ready version, or ?version=N",
          tags,
          querystring: skillVersionQuery,
          response: { 200: z.string().describe('text/markdown'), 404: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const row = await app.skills.get(requestContext(request).project, request.query.version);
        if (row.status !== 'ready') return reply.code(404).send({ detail: `Skill version ${row.version} is ${row.status}, not ready`, code: 'not_found' });
        return reply
          .type('text/markdown; charset=utf-8')
          .header('content-disposition', `attachment; filename="${row.name.replace(/[^\w.-]/g, '_')}-skill-v${row.version}.md"`)
          .send(row.markdown);
      },
    );
  }

  for (const url of PATHS.skillVersions) {
    app.get(
      url,
      {
        config: { scope: 'memories:read' },
        schema: {
          summary: "Every version of the project's Skill, newest first (each with its status and Markdown)",
          tags,
          response: { 200: z.array(skill), ...authErrors },
        },
      },
      async (request) => (await app.skills.versions(requestContext(request).project)).map(toSkillWire),
    );
  }
};

export default skillRoutes;
