/**
 * The viewer's access token, as Jupyter has one: a secret made when the viewer starts, printed in its link
 * (`http://127.0.0.1:4000/?token=…`) and asked for by every API call. A session file is 0600 because it holds live
 * tokens; without this, any local user (or any process) that can reach the port could read it through the viewer.
 * The UI itself (static files) stays public: it holds nothing recorded.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { ReltapeError } from '../model/errors.js'
import { registryBody } from './errors.js'

/** 256 bits: as strong as the sessions' own tokens can need, and 43 characters in a link. */
const TOKEN_BYTES = 32
/** The shortest token accepted from a caller: 128 bits of base64url. */
const MIN_TOKEN_CHARS = 22

/** A fresh token: `crypto.randomBytes`, base64url (safe in a query string as it is). */
export function newViewerToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url')
}

/** A token given by the embedder (`ViewerOptions.token`), refused with OPTION_INVALID when it is guessable. */
export function checkedToken(token: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token) || token.length < MIN_TOKEN_CHARS)
    throw new ReltapeError('OPTION_INVALID', { option: 'token', problem: `must be at least ${MIN_TOKEN_CHARS} base64url characters (128 bits), such as newViewerToken() makes` })
  return token
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/**
 * Whether `given` is the token, in constant time: both sides are hashed first, so neither the length of the token
 * nor how much of a guess matched shows in the time taken.
 */
export function tokenMatches(given: string, expectedDigest: Buffer): boolean {
  return timingSafeEqual(digest(given), expectedDigest)
}

/**
 * The token a request brings: `Authorization: Bearer …` (what the UI's fetches send), else the `token` query
 * parameter, for what a browser fetches by itself and cannot add a header to (EventSource, `<img>`, downloads).
 */
export function presentedToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization
  const bearer = typeof header === 'string' ? /^Bearer[ \t]+([^\s]+)[ \t]*$/i.exec(header) : null
  if (bearer?.[1]) return bearer[1]
  const query = (request.query as Record<string, unknown> | undefined)?.token
  return typeof query === 'string' ? query : null
}

/**
 * Asks every route registered on `scope` (an encapsulated plugin holding the API) for the token. Done by scope, not by
 * URL prefix, so no spelling of a path (`/%61pi/…`) reaches a route without it. A missing or wrong token is answered
 * 401 VIEWER_TOKEN_REQUIRED before the route runs, so an event stream never opens for it.
 */
export function requireToken(scope: FastifyInstance, token: string): void {
  const expected = digest(token)
  scope.addHook('onRequest', async (request, reply) => {
    const given = presentedToken(request)
    if (given !== null && tokenMatches(given, expected)) return
    const body = registryBody('VIEWER_TOKEN_REQUIRED', { problem: given === null ? 'missing' : 'wrong' })
    return reply
      .code(body.statusCode)
      .header('WWW-Authenticate', 'Bearer realm="reltape viewer"')
      .header('Cache-Control', 'no-store')
      .type('application/json; charset=utf-8')
      .send(body)
  })
}
