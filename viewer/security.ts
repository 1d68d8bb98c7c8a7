/**
 * What keeps recorded content and the viewer itself safe in a browser: a Host check against
 * DNS rebinding, and strict headers on every answer.
 */
import type { FastifyInstance } from 'fastify'
import { hostAllowed } from '../store/host-check.js'
import { registryBody } from './errors.js'

/** The viewer's own pages and API: scripts and styles from itself only, no frames, no plugins. */
export const VIEWER_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/** A recorded body served raw: a sandbox with nothing allowed, so a recorded HTML or SVG cannot run as the viewer. */
export const RAW_BODY_CSP = "sandbox; default-src 'none'"

export { hostAllowed }

export function installSecurity(app: FastifyInstance, boundHost: string): void {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('Content-Security-Policy', VIEWER_CSP)
    reply.header('X-Content-Type-Options', 'nosniff')
    reply.header('Referrer-Policy', 'no-referrer')
    reply.header('X-Frame-Options', 'DENY')
    reply.header('Cross-Origin-Resource-Policy', 'same-origin')
    if (!hostAllowed(request.headers.host, boundHost)) {
      const body = registryBody('HOST_NOT_ALLOWED', { bound: boundHost, host: request.headers.host ?? '' })
      return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
    }
  })
}
