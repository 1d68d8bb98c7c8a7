/**
 * Where the API's session token rides, and how it is shown.
 * The token comes in `Cookie: client-session=<token>` or `Authorization: Client <token>`; the same token
 * by either route is the same identity.
 */
import type { AuthVia, HeaderPair } from './session.js'

export const SESSION_COOKIE = 'client-session'
export const AUTH_SCHEME = 'Client'

export type FoundToken = { token: string; via: AuthVia }

/** Finds the session token in request headers; the Authorization header wins when both are present. */
export function findToken(headers: readonly HeaderPair[]): FoundToken | null {
  let fromCookie: string | null = null
  for (const [name, value] of headers) {
    const lower = name.toLowerCase()
    if (lower === 'authorization') {
      const m = /^\s*Client\s+(\S+)\s*$/i.exec(value)
      if (m?.[1]) return { token: m[1], via: 'authorization' }
    } else if (lower === 'cookie' && fromCookie === null) {
      fromCookie = cookieValue(value, SESSION_COOKIE)
    }
  }
  return fromCookie ? { token: fromCookie, via: 'cookie' } : null
}

/** The value of one cookie in a `Cookie` header, or null. */
export function cookieValue(header: string, name: string): string | null {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq < 0) continue
    if (part.slice(0, eq).trim() === name) {
      const v = part.slice(eq + 1).trim()
      return v.length > 0 ? v : null
    }
  }
  return null
}

/** Shows the first and last 4 characters of a token: enough to tell two apart on screen, not enough to use. */
export function maskToken(token: string): string {
  if (token.length <= 12) return '•'.repeat(Math.max(4, token.length))
  return `${token.slice(0, 4)}…${token.slice(-4)}`
}

/** A header value with every occurrence of the given tokens masked. */
export function maskSecrets(value: string, tokens: readonly string[]): string {
  let out = value
  for (const t of tokens) if (t) out = out.split(t).join(maskToken(t))
  return out
}

/** The alias of the n-th identity seen in a session (1-based). */
export function identityAlias(n: number): string {
  return `identity-${n}`
}
