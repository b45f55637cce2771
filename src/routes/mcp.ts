import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { authErrors, errorBody } from '../http/schemas.js';
import { ValidationError } from '../http/errors.js';
import { createMcpServer, MCP_MAX_BATCH } from '../mcp/server.js';
import { requestContext } from '../plugins/auth.js';
import { PATHS } from './paths.js';

const tags = ['mcp'];

/**
 * The MCP endpoint, Streamable HTTP in stateless mode: every POST gets a fresh server and
 * transport bound to the caller and project the auth hook resolved, so no session outlives its
 * request and any API process can answer any call. The route asks only for a valid key; each
 * tool checks its own scope.
 */
const mcpRoutes: FastifyPluginAsyncZod = async (app) => {
  for (const url of PATHS.mcp) {
    app.post(
      url,
      {
        config: { scope: 'any' },
        schema: {
          summary: 'Model Context Protocol (Streamable HTTP, stateless): tools retrieve_memories and create_memory',
          description:
            'A JSON-RPC message (or batch) as MCP defines it; answered by the MCP SDK. Point an MCP client at this URL with ' +
            'the same Authorization and X-Project-Id headers as the REST API. retrieve_memories needs memories:read, ' +
            'create_memory needs traces:write.',
          tags,
          response: { 200: z.unknown().describe('The JSON-RPC response (202 without a body for notifications)'), ...authErrors },
        },
      },
      async (request, reply) => {
        if (Array.isArray(request.body) && request.body.length > MCP_MAX_BATCH) {
          throw new ValidationError([{ loc: ['body'], msg: `a JSON-RPC batch must not hold more than ${MCP_MAX_BATCH} messages`, type: 'too_many_items' }]);
        }
        const server = createMcpServer({ auth: app.auth, memories: app.memories, traces: app.traces, log: request.log }, requestContext(request));
        // JSON responses rather than SSE: the tools send no progress or notifications, and a
        // plain JSON reply passes every proxy unbuffered.
        const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
        // From here the SDK writes the response; fastify only runs its onResponse hooks.
        reply.hijack();
        reply.raw.on('close', () => {
          void transport.close();
          void server.close();
        });
        try {
          await server.connect(transport);
          await transport.handleRequest(request.raw, reply.raw, request.body);
        } catch (error) {
          request.log.error({ err: error }, 'MCP request failed');
          if (!reply.raw.headersSent) {
            reply.raw.writeHead(500, { 'content-type': 'application/json' });
            reply.raw.end(JSON.stringify({ detail: 'Internal server error', code: 'internal_error' }));
          }
        }
      },
    );

    // Stateless: no server-initiated stream to GET and no session to DELETE. 405 tells MCP
    // clients so (they carry on with POST only); no key is needed to learn that.
    for (const method of ['GET', 'DELETE'] as const) {
      app.route({
        method,
        url,
        schema: { hide: true, response: { 405: errorBody } },
        handler: async (_request, reply) =>
          reply
            .code(405)
            .header('allow', 'POST')
            .send({ detail: `${method} is not supported: this MCP endpoint is stateless, send JSON-RPC messages with POST`, code: 'method_not_allowed' }),
      });
    }
  }
};

export default mcpRoutes;
