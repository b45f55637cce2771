import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { encodeCursor } from '../http/cursor.js';
import { authErrors, errorBody, idParams } from '../http/schemas.js';
import { requestContext } from '../plugins/auth.js';
import { createTraceBody, listTracesQuery, reviewBody, trace, traceSubmission } from '../traces/models.js';
import { toTraceWire } from '../traces/service.js';
import { PATHS } from './paths.js';

const tags = ['traces'];

const traceRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.traces) {
    app.post(
      url,
      {
        config: { scope: 'traces:write' },
        schema: {
          summary: 'Record a run (optionally with its review); processing happens in the background',
          tags,
          body: createTraceBody,
          response: { 202: traceSubmission, 413: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const { project, principal } = requestContext(request);
        const row = await app.traces.create(project, request.body, principal.keyRowId);
        const status = row.ingestStatus as 'queued' | 'completed';
        return reply.code(202).send({ id: row.id, trace_id: row.id, ingest_status: status });
      },
    );

    app.get(
      url,
      {
        config: { scope: 'traces:read' },
        schema: {
          summary:
            'List traces, newest first; the total is in X-Total-Count, the next page is `cursor=<X-Next-Cursor>` (absent on the last page)',
          tags,
          querystring: listTracesQuery,
          response: { 200: z.array(trace), ...authErrors },
        },
      },
      async (request, reply) => {
        const { rows, total, next } = await app.traces.list(requestContext(request).project, request.query);
        reply.header('X-Total-Count', String(total));
        if (next) reply.header('X-Next-Cursor', encodeCursor(next, total));
        return rows.map(toTraceWire);
      },
    );
  }

  for (const url of PATHS.trace) {
    app.get(
      url,
      {
        config: { scope: 'traces:read' },
        schema: { summary: 'Get a trace', tags, params: idParams, response: { 200: trace, 404: errorBody, ...authErrors } },
      },
      async (request) => toTraceWire(await app.traces.get(requestContext(request).project, request.params.id)),
    );
  }

  for (const url of PATHS.traceReview) {
    app.post(
      url,
      {
        config: { scope: 'traces:write' },
        schema: {
          summary: 'Review a trace (pass/fail); 409 `conflict` if it already has a review, 409 `trace_leased` if another key has it open in the review queue',
          tags,
          params: idParams,
          body: reviewBody,
          response: { 200: trace, 404: errorBody, 409: errorBody, ...authErrors },
        },
      },
      async (request) => {
        const { project, principal } = requestContext(request);
        return toTraceWire(await app.traces.review(project, request.params.id, request.body, principal.keyRowId));
      },
    );
  }

  for (const url of PATHS.traceRetry) {
    app.post(
      url,
      {
        config: { scope: 'traces:write' },
        schema: {
          summary: 'Queue a failed trace again for a new round of attempts; 409 unless failed',
          tags,
          params: idParams,
          response: { 200: trace, 404: errorBody, 409: errorBody, ...authErrors },
        },
      },
      async (request) => toTraceWire(await app.traces.retry(requestContext(request).project, request.params.id)),
    );
  }
};

export default traceRoutes;
