import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** Endpoints served without the token: probes and the scrape. */
export const PUBLIC_PATHS: ReadonlySet<string> = new Set([
  '/health',
  '/ready',
  '/metrics',
]);

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * An `onRequest` hook requiring `Authorization: Bearer <token>` on every
 * path but {@link PUBLIC_PATHS} (unknown paths too: what exists is not
 * revealed). Answers 401 with `WWW-Authenticate: Bearer`. Tokens are
 * compared as digests in constant time, so neither their content nor
 * their length leaks through timing.
 */
export function bearerAuth(
  token: string,
): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
  const expected = digest(token);
  return async (req, reply) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (PUBLIC_PATHS.has(path)) return;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (m !== null && timingSafeEqual(digest(m[1] as string), expected)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer')
      .send({ error: 'missing or invalid bearer token (api.token)' });
  };
}
