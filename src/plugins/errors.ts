import { isUtf8 } from 'node:buffer';
import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ApiError, ValidationError, type ValidationIssue } from '../http/errors.js';

/** Fastify's own client errors, mapped to the contract's codes. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

/** Fastify's validation contexts, named as FastAPI names them in `loc` (X-Project-Id is `header` too). */
const LOCATIONS: Record<string, string> = { body: 'body', querystring: 'query', params: 'path', headers: 'header' };

/**
 * Every error leaves in the contract's shape, `{detail, code}`; a 422 carries FastAPI-style
 * `loc/msg/type` issues; a 5xx says nothing about the inside (the log has the stack).
 */
export default fp(
  async function errors(app: FastifyInstance) {
    // While draining (SIGTERM), a request still arriving on an open connection is told to go elsewhere.
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async () => {
      if (closing) throw new ApiError(503, 'shutting_down', 'The server is shutting down; retry on another instance', { connection: 'close' });
    });

    // JSON bodies are read as bytes and must be UTF-8: decoding invalid bytes as text would
    // silently turn them into U+FFFD. Otherwise Fastify's own parser (and its checks) runs.
    const parseJson = app.getDefaultJsonParser('error', 'error');
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
      const bytes = body as Buffer;
      if (!isUtf8(bytes)) return done(new ApiError(400, 'invalid_json', 'Malformed JSON body: it is not valid UTF-8'), undefined);
      parseJson(request, bytes.toString('utf8'), done);
    });

    app.setNotFoundHandler((request, reply) => {
      reply.code(404).send({ detail: `Route ${request.method} ${request.url.split('?')[0]} not found`, code: 'not_found' });
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof ApiError) {
        return reply.code(error.statusCode).headers(error.headers).send({ detail: error.detail, code: error.code });
      }
      if (error instanceof ValidationError) {
        return reply.code(422).send({ detail: error.issues, code: 'validation_error' });
      }
      if (hasZodFastifySchemaValidationErrors(error)) {
        const context = LOCATIONS[error.validationContext ?? 'body'] ?? error.validationContext ?? 'body';
        const issues: ValidationIssue[] = error.validation.map((v) => ({
          loc: [context, ...pathOf(v.instancePath)],
          msg: v.message ?? 'Invalid value',
          type: v.keyword,
        }));
        return reply.code(422).send({ detail: issues, code: 'validation_error' });
      }
      const status = error.statusCode ?? 500;
      if (status === 429) {
        return reply.code(429).send({ detail: error.message, code: 'rate_limited' });
      }
      if (status >= 400 && status < 500) {
        const code = FASTIFY_CODES[error.code] ?? (status === 400 ? 'bad_request' : 'client_error');
        const detail = code === 'invalid_json' ? `Malformed JSON body: ${error.message}` : error.message;
        return reply.code(status).send({ detail, code });
      }
      request.log.error({ err: error }, 'request failed');
      return reply.code(status >= 500 ? status : 500).send({ detail: 'Internal server error', code: 'internal_error' });
    });
  },
  { name: 'errors' },
);

function pathOf(instancePath: string): (string | number)[] {
  return instancePath
    .split('/')
    .filter(Boolean)
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}
