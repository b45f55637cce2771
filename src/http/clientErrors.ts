import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Requests Fastify or Node's HTTP parser refuse before any route sees them still get the
 * contract's `{detail, code}`: a path that is not percent-encoded UTF-8, a path parameter over
 * the router's limit (frameworkErrors), and malformed HTTP — oversized headers, a control byte
 * in a header, a bad Content-Length or chunk, an unknown method (clientErrorHandler).
 */

/** Fastify's `frameworkErrors`: the request exists, so the reply is an ordinary one. */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const path = shorten(request.url.split('?')[0] ?? '');
  // No onRequest hook runs for these, so the request id is echoed here.
  void reply.header('x-request-id', request.id);
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send({ detail: `The path ${path} is not valid percent-encoded UTF-8`, code: 'bad_url' });
  } else if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({ detail: `A path parameter of ${path} is longer than ${MAX_PARAM_LENGTH} characters`, code: 'uri_too_long' });
  } else {
    request.log.error({ err: error }, 'request failed before routing');
    void reply.code(500).send({ detail: 'Internal server error', code: 'internal_error' });
  }
}

/** Fastify's default router limit, named here because the 414 says it. */
export const MAX_PARAM_LENGTH = 100;

interface ParseFailure {
  status: number;
  code: string;
  detail: string;
}

/** Node's parser errors (llhttp's `HPE_*` codes and the server's timeouts), as the client hears them. */
function failureOf(code: string | undefined): ParseFailure {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return { status: 431, code: 'headers_too_large', detail: 'The request headers are larger than the server accepts (16 KB in all)' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'ERR_HTTP_HEADERS_TIMEOUT':
      return { status: 408, code: 'request_timeout', detail: 'The request was not received in time' };
    case 'HPE_INVALID_METHOD':
      return { status: 501, code: 'method_not_implemented', detail: 'Unknown HTTP method' };
    case 'HPE_INVALID_CONTENT_LENGTH':
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return { status: 400, code: 'invalid_content_length', detail: 'The Content-Length header is not valid' };
    case 'HPE_INVALID_CHUNK_SIZE':
    case 'HPE_INVALID_TRANSFER_ENCODING':
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 400, code: 'invalid_chunked_encoding', detail: 'The chunked body is not valid' };
    case 'HPE_INVALID_HEADER_TOKEN':
    case 'HPE_LF_EXPECTED':
    case 'HPE_CR_EXPECTED':
      return { status: 400, code: 'malformed_request', detail: 'A header holds a character HTTP does not allow' };
    default:
      return { status: 400, code: 'malformed_request', detail: 'Malformed HTTP request' };
  }
}

/**
 * Fastify's `clientErrorHandler`: no request object exists, so the answer is written to the
 * socket by hand (as Node's own handler does) and the connection is closed. Nothing is written
 * when a response on this connection has already begun.
 */
export function clientErrorHandler(this: FastifyInstance, error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const failure = failureOf(error.code);
  this.log.debug({ err: error }, 'malformed HTTP request');
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ detail: failure.detail, code: failure.code });
    socket.write(
      `HTTP/1.1 ${failure.status} ${STATUS_CODES[failure.status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

/** A path quoted in a message: enough to recognise it, never a megabyte of it. */
function shorten(path: string): string {
  return path.length > 120 ? `${path.slice(0, 120)}…` : path;
}
