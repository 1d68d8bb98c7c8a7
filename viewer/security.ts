/**
 * What keeps recorded content and the viewer itself safe in a browser: a Host check against
 * DNS rebinding, and strict headers on every answer.
 */
import { isIP } from 'node:net'
import type { FastifyInstance } from 'fastify'
import { registryBody } from './errors.js'

/** The viewer's own pages and API: scripts and styles from itself only, no frames, no plugins. */
export const VIEWER_CSP =
  "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

/** A recorded body served raw: a sandbox with nothing allowed, so a recorded HTML or SVG cannot run as the viewer. */
export const RAW_BODY_CSP = "sandbox; default-src 'none'"

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The host part of a Host header, lowercased, brackets kept for IPv6 (`[::1]:4000` → `[::1]`). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end === -1 ? h : h.slice(0, end + 1)
  }
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/**
 * The Host names the viewer answers: loopback names and the host it was told to bind. A page on an
 * attacker's domain that rebinds its DNS to 127.0.0.1 still sends its own name in Host, so it is refused.
 * Bound to a wildcard address, IP literals are accepted too: rebinding needs a domain name.
 */
export function hostAllowed(header: string | undefined, boundHost: string): boolean {
  if (!header) return false
  const name = hostName(header)
  if (LOOPBACK_NAMES.has(name)) return true
  const bound = boundHost.toLowerCase()
  if (name === bound || name === `[${bound}]`) return true
  if (bound === '0.0.0.0' || bound === '::') return isIP(name.replace(/^\[|\]$/g, '')) !== 0
  return false
}

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
