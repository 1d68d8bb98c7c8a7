/**
 * Turns a recorded request and a live one into the same `RequestShape`, so that both get their key by
 * one function. Bodies are judged the same way on both sides: JSON when the content type says JSON and
 * the text parses, multipart by its parts, anything else by a digest of its bytes.
 */
import { createHash } from 'node:crypto'
import { findToken } from '../model/auth.js'
import { headerValue } from '../model/headers.js'
import { isJsonContentType, isMultipartContentType, parseQuery, type KeyBody, type KeyPart, type RequestShape } from '../model/match.js'
import type { Body, HeaderPair, RecordedRequest, Session } from '../model/session.js'
import { tokenHash } from '../store/store.js'
import { bodyBytes } from '../store/body-bytes.js'

export function digest(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64')
}

type JudgedBody = { key: KeyBody; json: unknown }

/**
 * A body judged from its bytes and content type, the way a live request's is. Synchronous except for a
 * multipart body (parsing it is asynchronous), so that a JSON request is answered in the turn it arrived in.
 */
export function keyBodyFromBytes(bytes: Buffer, contentType: string | null): JudgedBody | Promise<JudgedBody> {
  if (bytes.length === 0) return { key: { kind: 'empty' }, json: undefined }
  if (isJsonContentType(contentType)) {
    try {
      const json: unknown = JSON.parse(bytes.toString('utf8'))
      return { key: { kind: 'json', json }, json }
    } catch {
      // Not JSON after all: matched by its bytes, like any other body.
    }
  }
  if (contentType && isMultipartContentType(contentType)) {
    return multipartParts(bytes, contentType).then((parts) => (parts ? { key: { kind: 'multipart', parts }, json: undefined } : bytesKey(bytes)))
  }
  return bytesKey(bytes)
}

function bytesKey(bytes: Buffer): JudgedBody {
  return { key: { kind: 'bytes', digest: digest(bytes), size: bytes.length }, json: undefined }
}

async function multipartParts(bytes: Buffer, contentType: string): Promise<KeyPart[] | null> {
  let form: FormData
  try {
    form = await new Response(bytes, { headers: { 'content-type': contentType } }).formData()
  } catch {
    return null
  }
  const parts: KeyPart[] = []
  for (const [name, value] of form.entries()) {
    if (typeof value === 'string') {
      const b = Buffer.from(value, 'utf8')
      parts.push({ name, filename: null, contentType: null, digest: digest(b), size: b.length })
    } else {
      const b = Buffer.from(await value.arrayBuffer())
      parts.push({ name, filename: value.name, contentType: normaliseType(value.type), digest: digest(b), size: b.length })
    }
  }
  return parts
}

function normaliseType(type: string | undefined): string | null {
  const t = type?.trim().toLowerCase()
  return t ? t : null
}

/** A recorded body judged like a live one (without re-parsing what the recorder already parsed). */
export async function keyBodyOfRecorded(body: Body): Promise<JudgedBody> {
  if (body.kind === 'empty') return { key: { kind: 'empty' }, json: undefined }
  if (body.kind === 'json' && isJsonContentType(body.contentType)) return { key: { kind: 'json', json: body.json }, json: body.json }
  if (body.kind === 'multipart') {
    const parts = body.parts.map((p): KeyPart => {
      const b = bodyBytes(p.body)
      // A part without a file name is a plain field: the live side sees it as a string without a type.
      const isFile = p.filename !== undefined
      return {
        name: p.name,
        filename: isFile ? p.filename! : null,
        contentType: isFile ? normaliseType(p.contentType) : null,
        digest: digest(b),
        size: b.length,
      }
    })
    return { key: { kind: 'multipart', parts }, json: undefined }
  }
  return keyBodyFromBytes(bodyBytes(body), body.contentType)
}

/** The identity alias for a token, by its hash in the session's identities. */
export function identityResolver(session: Session): (token: string | null) => string | null {
  const byHash = new Map(session.identities.map((i) => [i.tokenHash, i.alias]))
  return (token) => {
    if (!token) return null
    const hash = tokenHash(token)
    return byHash.get(hash) ?? `unknown:${hash}`
  }
}

/** The shape of a recorded request, and its parsed JSON body (for echo fields). */
export async function recordedShape(req: RecordedRequest): Promise<{ shape: RequestShape; json: unknown }> {
  const url = new URL(req.url)
  const { key, json } = await keyBodyOfRecorded(req.body)
  const host = (headerValue(req.headers, 'host') ?? url.host).toLowerCase()
  return {
    shape: {
      method: req.method.toUpperCase(),
      path: url.pathname,
      query: parseQuery(url.search.slice(1)),
      host,
      identity: req.auth?.identity ?? null,
      body: key,
    },
    json,
  }
}

/** What replay needs of a live request. */
export type LiveRequest = {
  method: string
  /** The request target: path and query. */
  url: string
  headers: Readonly<Record<string, string | string[] | undefined>>
  body: Buffer | undefined
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
