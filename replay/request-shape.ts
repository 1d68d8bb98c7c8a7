/**
 * Turns a recorded request and a live one into the same `RequestShape`, so that both get their key by
 * one function. Bodies are judged the same way on both sides: JSON when the content type says JSON and
 * the text parses, multipart by its parts, anything else by a digest of its bytes.
 */
import { findToken } from '../model/auth.js'
import { parseQuery, type RequestShape } from '../model/match.js'
import type { HeaderPair, Session } from '../model/session.js'
import { keyBodyFromBytes, type JudgedBody } from '../store/request-key.js'
import { tokenHash } from '../store/store.js'

export { digest, keyBodyFromBytes, recordedShape } from '../store/request-key.js'

/** The identity alias for a token, by its hash in the session's identities. */
export function identityResolver(session: Pick<Session, 'identities'>): (token: string | null) => string | null {
  const byHash = new Map(session.identities.map((i) => [i.tokenHash, i.alias]))
  return (token) => {
    if (!token) return null
    const hash = tokenHash(token)
    return byHash.get(hash) ?? `unknown:${hash}`
  }
}

/** What replay needs of a live request. */
export type LiveRequest = {
  method: string
  /** The request target: path and query. */
  url: string
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: Buffer | undefined
  /** The headers as received (flat name, value, … in wire order and case): what `record-missing` forwards and stores. */
  rawHeaders?: readonly string[]
  /** @default '1.1' */
  httpVersion?: string
}

/** The token of a live request, from `Authorization: Client …` or the session cookie. */
export function liveToken(headers: LiveRequest['headers']): string | null {
  const pairs: HeaderPair[] = []
  const auth = headers.authorization
  const cookie = headers.cookie
  if (typeof auth === 'string') pairs.push(['authorization', auth])
  if (typeof cookie === 'string') pairs.push(['cookie', cookie])
  else if (Array.isArray(cookie)) for (const c of cookie) pairs.push(['cookie', c])
  return pairs.length ? (findToken(pairs)?.token ?? null) : null
}

type JudgedRequest = { shape: RequestShape; json: unknown }

/** The shape of a live request, and its parsed JSON body (for echo fields); a promise only for a multipart body. */
export function liveShape(
  req: LiveRequest,
  identityOf: (token: string | null) => string | null,
  withIdentity: boolean,
): JudgedRequest | Promise<JudgedRequest> {
  const ct = req.headers['content-type']
  const body = keyBodyFromBytes(req.body ?? EMPTY, typeof ct === 'string' ? ct : null)
  return body instanceof Promise ? body.then((b) => shapeOf(req, b, identityOf, withIdentity)) : shapeOf(req, body, identityOf, withIdentity)
}

function shapeOf(req: LiveRequest, { key, json }: JudgedBody, identityOf: (token: string | null) => string | null, withIdentity: boolean): JudgedRequest {
  const target = splitTarget(req.url)
  const host = target.host ?? req.headers.host
  return {
    shape: {
      method: req.method,
      path: decodePath(target.path),
      query: parseQuery(target.search),
      host: typeof host === 'string' ? host.toLowerCase() : '',
      // Hashing the token costs a little: only when the identity is part of the key or a miss is explained.
      identity: withIdentity ? identityOf(liveToken(req.headers)) : null,
      body: key,
    },
    json,
  }
}

const EMPTY = Buffer.alloc(0)

/**
 * Path, query and (for an absolute-form target, as a client using replay as its HTTP proxy sends) host
 * of a request target.
 */
export function splitTarget(url: string): { path: string; search: string; host: string | null } {
  if (url.charCodeAt(0) !== 47 /* '/' */) {
    try {
      const u = new URL(url)
      return { path: u.pathname, search: u.search.slice(1), host: u.host }
    } catch {
      // not absolute either: fall through and treat it as a path
    }
  }
  const q = url.indexOf('?')
  return q < 0 ? { path: url, search: '', host: null } : { path: url.slice(0, q), search: url.slice(q + 1), host: null }
}

/** `new URL().pathname` keeps percent-escapes as sent; a live path from fastify does too, so normalise both alike. */
function decodePath(path: string): string {
  return path.includes('%') ? new URL(path, 'http://x').pathname : path
}
