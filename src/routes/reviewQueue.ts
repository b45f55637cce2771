import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { requestContext } from '../plugins/auth.js';
import { bulkReviewBody, bulkReviewResult, claimBody, claimedTrace } from '../reviewQueue/models.js';
import { PATHS } from './paths.js';

const tags = ['review queue'];

const reviewQueueRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.reviewQueueClaim) {
    app.post(
      url,
      {
        config: { scope: 'traces:write' },
        schema: {
          summary:
            'Claim the oldest trace without a review that no other key has open (or the one after/before a given trace), leased to this key for REFLECT_REVIEW_LEASE_MS; ends its other leases. 204 when none is left',
          tags,
          body: claimBody,
          response: { 200: claimedTrace, 204: z.null().describe('Nothing left to review'), 404: errorBody, ...authErrors },
        },
      },
      async (request, reply) => {
        const { principal, project } = requestContext(request);
        const claimed = await app.reviewQueue.claim(principal, project, request.body);
        return claimed ? claimed : reply.code(204).send(null);
      },
    );

    app.delete(
      url,
      {
        config: { scope: 'traces:write' },
        schema: { summary: "End this key's review-queue leases", tags, response: { 204: z.null(), ...authErrors } },
      },
      async (request, reply) => {
        const { principal, project } = requestContext(request);
        await app.reviewQueue.release(principal, project);
        return reply.code(204).send(null);
      },
    );
  }

  for (const url of PATHS.tracesBulkReview) {
    app.post(
      url,
      {
        config: { scope: 'traces:write' },
        schema: {
          summary:
            'Review many traces (by id, or all matching a list filter, newest first): each is queued, or a conflict (already reviewed, or open by another reviewer), or not found',
          tags,
          body: bulkReviewBody,
          response: { 200: bulkReviewResult, ...authErrors },
        },
      },
      async (request) => {
        const { principal, project } = requestContext(request);
        return app.reviewQueue.bulkReview(principal, project, request.body);
      },
    );
  }
};

export default reviewQueueRoutes;
