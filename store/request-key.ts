/**
 * The replay key of a recorded request, as the session index stores it (a digest, computed once when the index
 * is built) and as replay computes it for a live request. Bodies are judged the same way on both sides: JSON when
 * the content type says JSON and the text parses, multipart by its parts, anything else by a digest of its bytes.
 */
import { createHash } from 'node:crypto'
import { headerValue } from '../model/headers.js'
import { isJsonContentType, isMultipartContentType, keyOf, parseFieldPath, parseQuery, type KeyBody, type KeyPart, type MatchRules, type RequestShape } from '../model/match.js'
import type { Body, Exchange, RecordedRequest } from '../model/session.js'
import { bodyBytes } from './body-bytes.js'

/** The fields left out of a key, and echoed from the live request, unless told otherwise. */
export const DEFAULT_KEY_FIELDS: readonly string[] = Object.freeze(['LocalId'])

/** The rules of the key the index stores: replay's defaults. */
export const DEFAULT_MATCH_RULES: MatchRules = Object.freeze({
  ignoreFields: Object.freeze(DEFAULT_KEY_FIELDS.map(parseFieldPath)),
  matchIdentity: false,
  matchHost: false,
})

/** A short, fixed-size stand-in for a key: what the index stores and replay looks up. */
export function keyDigest(key: string): string {
  return createHash('sha1').update(key).digest('base64')
}

/**
 * The digest of an exchange's key under the default rules, or null when its body must be parsed asynchronously
 * (multipart stored as bytes): replay then judges that one itself.
 */
export function defaultKeyDigest(exchange: Exchange): string | null {
  const judged = recordedShape(exchange.request)
  return judged instanceof Promise ? null : keyDigest(keyOf(judged.shape, DEFAULT_MATCH_RULES))
}

export function digest(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('base64')
}

export type JudgedBody = { key: KeyBody; json: unknown }

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

/** A recorded body judged like a live one (without re-parsing what the recorder already parsed); a promise only for multipart bytes. */
export function keyBodyOfRecorded(body: Body): JudgedBody | Promise<JudgedBody> {
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

/** The shape of a recorded request, and its parsed JSON body (for echo fields). */
export function recordedShape(req: RecordedRequest): JudgedRequest | Promise<JudgedRequest> {
  const judged = keyBodyOfRecorded(req.body)
  return judged instanceof Promise ? judged.then((b) => shapeOf(req, b)) : shapeOf(req, judged)
}

export type JudgedRequest = { shape: RequestShape; json: unknown }

function shapeOf(req: RecordedRequest, { key, json }: JudgedBody): JudgedRequest {
  const url = new URL(req.url)
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

