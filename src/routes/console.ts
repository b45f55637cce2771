import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PATHS } from './paths.js';

/** The built console (`npm run build:console`, or `npm start`'s prestart): console/dist beside src/ and dist/. */
export const CONSOLE_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../console/dist');

/**
 * Strict: only this origin's own scripts, styles and API; no inline script or style element, no
 * plugins, no framing. The console renders untrusted trace contents, so this is its second wall.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Paths that belong to the API: an unknown one there stays a JSON 404, never the console page. */
const API_PATHS = /^\/(v1|mcp|docs|health|ready|metrics|openapi\.json|assets)(\/|$|\?)/;

function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Console not built</title>
<p>The console has not been built. Run <code>npm run build:console</code> (or <code>npm start</code>, which builds it) and reload.</p>
<p>The API works regardless: see <a href="/docs">/docs</a>.</p>`;

/**
 * The web console: a single-page app talking to the public API only. Its assets are served under
 * /assets/ (content-hashed, cached for good); every other GET a browser makes for a page (Accept:
 * text/html) outside the API's paths gets index.html, so client routes like /traces/<id> load.
 */
export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const indexFile = path.join(CONSOLE_DIST, 'index.html');
  const assets = path.join(CONSOLE_DIST, 'assets');
  await app.register(fastifyStatic, { root: assets, serve: false, decorateReply: true });
  const config = { rateLimit: false } as const;
  const hide = { hide: true } as const;

  const asset = async (request: FastifyRequest, reply: FastifyReply) => {
    const file = (request.params as { '*': string })['*'];
    securityHeaders(reply);
    return reply.sendFile(file, assets, { immutable: true, maxAge: '365d', dotfiles: 'deny' });
  };
  for (const url of PATHS.consoleAssets) app.get(url, { config, schema: hide }, asset);

  // Read per request (a few hundred bytes): a rebuild while the server runs is picked up.
  const page = async (request: FastifyRequest, reply: FastifyReply) => {
    const url = request.url;
    const wantsPage = (request.headers.accept ?? '').includes('text/html');
    if (url !== '/' && (API_PATHS.test(url) || !wantsPage)) return reply.callNotFound();
    securityHeaders(reply).header('cache-control', 'no-cache').type('text/html; charset=utf-8');
    if (!existsSync(indexFile)) return reply.code(503).send(NOT_BUILT);
    return reply.send(readFileSync(indexFile));
  };
  for (const url of PATHS.consolePage) app.get(url, { config, schema: hide }, page);
}
