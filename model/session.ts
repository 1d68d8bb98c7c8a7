/**
 * The session format: what a recorded session is, and the validation of a loaded file.
 * Pure TypeScript with no Node imports, so the viewer's UI bundles it too.
 */

import { ReltapeError } from './errors.js'
import { JsonChecker } from './json-checker.js'

export const SESSION_FORMAT = 'reltape.session/1'

/** A header as it was on the wire: name in its original case, value as sent. Order is kept by the array. */
export type HeaderPair = [name: string, value: string]

export type EmptyBody = { kind: 'empty' }
export type JsonBody = {
  kind: 'json'
  json: unknown
  /** The exact text, kept only where `JSON.stringify(json)` would not give it back. */
  raw?: string
  contentType: string
  /** Decoded size in bytes. */
  size: number
}
export type TextBody = { kind: 'text'; text: string; contentType: string; size: number }
export type BytesBody = { kind: 'bytes'; base64: string; contentType: string; size: number }
export type MultipartPart = { name: string; filename?: string; contentType?: string; body: Body }
export type MultipartBody = { kind: 'multipart'; parts: MultipartPart[]; contentType: string; size: number }

/** A stored body, always decoded (no gzip). */
export type Body = (EmptyBody | JsonBody | TextBody | BytesBody | MultipartBody) & {
  /** Set when the body was larger than the recorder's limit: `size` is the real size, the content is cut. */
  truncated?: boolean
  /**
   * Set when the source (an imported HAR) declared a body but did not hold it: `size` is the declared size and no
   * content is stored (a `bytes` body with no bytes). Nothing is invented in its place.
   */
  omitted?: boolean
}

export type AuthVia = 'cookie' | 'authorization'
export type RequestAuth = { via: AuthVia; identity: string }

export type RecordedRequest = {
  method: string
  /** Absolute URL, as the client asked for it. */
  url: string
  httpVersion: string
  headers: HeaderPair[]
  body: Body
  auth: RequestAuth | null
}

export type RecordedResponse = {
  status: number
  statusText: string
  headers: HeaderPair[]
  body: Body
  /** The Content-Encoding seen on the wire (`gzip`, `br`, …), or null; the stored body is decoded. */
  contentEncoding: string | null
}

/** Known transport failure codes; other strings are allowed so that a newer recorder's file still loads. */
export type ExchangeErrorCode =
  | 'UPSTREAM_UNREACHABLE'
  | 'UPSTREAM_TLS'
  | 'UPSTREAM_RESET'
  | 'TIMEOUT'
  | 'CLIENT_ABORTED'
  | 'PROXY_ERROR'
  | (string & {})

export type ExchangeError = { code: ExchangeErrorCode; message: string }

export type Exchange = {
  /** 1-based, in the order the requests started. */
  seq: number
  id: string
  startedAt: string
  durationMs: number
  request: RecordedRequest
  response: RecordedResponse | null
  error: ExchangeError | null
}

export type RecordingMode = 'forward' | 'reverse' | 'import'

export type Recording = {
  /** The tool and its version, e.g. `reltape/0.1.0`. */
  tool: string
  mode: RecordingMode
  /** The upstream base URL in reverse mode; null when forwarding to whatever the client asked. */
  upstream: string | null
}

export type Identity = {
  /** `identity-1`, `identity-2`, … in order of first appearance. */
  alias: string
  /** A short hash of the token: tells identities apart without keeping the token. */
  tokenHash: string
  label: string | null
}

export type Session = {
  format: typeof SESSION_FORMAT
  name: string
  createdAt: string
  recording: Recording
  identities: Identity[]
  exchanges: Exchange[]
}

/** Thrown when a session file does not hold a valid session. `where` names the file, `path` the JSON path. */
export class SessionFormatError extends ReltapeError<'SESSION_INVALID'> {
  constructor(
    readonly where: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super('SESSION_INVALID', { where, path, problem })
    this.name = 'SessionFormatError'
  }
}

type Json = unknown

class Checker extends JsonChecker {
  constructor(readonly where: string) {
    super()
  }

  fail(path: string, problem: string): never {
    throw new SessionFormatError(this.where, path, problem)
  }

  nullableString(value: Json, path: string): string | null {
    return value === null ? null : this.string(value, path)
  }

  optionalString(value: Json, path: string): string | undefined {
    return value === undefined ? undefined : this.string(value, path)
  }

  integer(value: Json, path: string, min = 0): number {
    const n = this.number(value, path)
    if (!Number.isInteger(n) || n < min) this.fail(path, `expected an integer ≥ ${min}, found ${n}`)
    return n
  }

  isoDate(value: Json, path: string): string {
    const s = this.string(value, path)
    if (Number.isNaN(Date.parse(s))) this.fail(path, `expected an ISO date, found ${JSON.stringify(s)}`)
    return s
  }

  oneOf<T extends string>(value: Json, path: string, choices: readonly T[]): T {
    const s = this.string(value, path)
    if (!(choices as readonly string[]).includes(s))
      this.fail(path, `expected one of ${choices.map((c) => JSON.stringify(c)).join(', ')}, found ${JSON.stringify(s)}`)
    return s as T
  }
}

function checkHeaders(c: Checker, value: Json, path: string): HeaderPair[] {
  return c.array(value, path).map((pair, i) => {
    const p = `${path}[${i}]`
    const arr = c.array(pair, p)
    if (arr.length !== 2) c.fail(p, `expected a [name, value] pair, found ${arr.length} items`)
    return [c.string(arr[0], `${p}[0]`), c.string(arr[1], `${p}[1]`)]
  })
}

const BODY_KINDS = ['empty', 'json', 'text', 'bytes', 'multipart'] as const

function checkBody(c: Checker, value: Json, path: string): Body {
  const b = c.object(value, path)
  const kind = c.oneOf(b.kind, `${path}.kind`, BODY_KINDS)
  if (b.truncated !== undefined && typeof b.truncated !== 'boolean') c.fail(`${path}.truncated`, 'expected a boolean')
  if (b.omitted !== undefined && typeof b.omitted !== 'boolean') c.fail(`${path}.omitted`, 'expected a boolean')
  if (kind === 'empty') return b as Body
  c.string(b.contentType, `${path}.contentType`)
  c.integer(b.size, `${path}.size`)
  switch (kind) {
    case 'json':
      if (!('json' in b)) c.fail(`${path}.json`, 'missing')
      c.optionalString(b.raw, `${path}.raw`)
      break
    case 'text':
      c.string(b.text, `${path}.text`)
      break
    case 'bytes': {
      const s = c.string(b.base64, `${path}.base64`)
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) c.fail(`${path}.base64`, 'not valid base64')
      break
    }
    case 'multipart':
      c.array(b.parts, `${path}.parts`).forEach((part, i) => {
        const pp = `${path}.parts[${i}]`
        const o = c.object(part, pp)
        c.string(o.name, `${pp}.name`)
        c.optionalString(o.filename, `${pp}.filename`)
        c.optionalString(o.contentType, `${pp}.contentType`)
        checkBody(c, o.body, `${pp}.body`)
      })
      break
  }
  return b as Body
}

/** Validates one exchange; `path` is where it sits, e.g. `exchanges[3]` or `journal line 12`. */
export function parseExchange(value: Json, where: string, path = 'exchange'): Exchange {
  const c = new Checker(where)
  const e = c.object(value, path)
  c.integer(e.seq, `${path}.seq`, 1)
  c.string(e.id, `${path}.id`)
  c.isoDate(e.startedAt, `${path}.startedAt`)
  c.number(e.durationMs, `${path}.durationMs`)
  const req = c.object(e.request, `${path}.request`)
  c.string(req.method, `${path}.request.method`)
  const url = c.string(req.url, `${path}.request.url`)
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) c.fail(`${path}.request.url`, `expected an absolute URL, found ${JSON.stringify(url)}`)
  c.string(req.httpVersion, `${path}.request.httpVersion`)
  checkHeaders(c, req.headers, `${path}.request.headers`)
  checkBody(c, req.body, `${path}.request.body`)
  if (req.auth !== null) {
    const a = c.object(req.auth, `${path}.request.auth`)
    c.oneOf(a.via, `${path}.request.auth.via`, ['cookie', 'authorization'] as const)
    c.string(a.identity, `${path}.request.auth.identity`)
  }
  if (e.response !== null) {
    const res = c.object(e.response, `${path}.response`)
    c.integer(res.status, `${path}.response.status`)
    c.string(res.statusText, `${path}.response.statusText`)
    checkHeaders(c, res.headers, `${path}.response.headers`)
    checkBody(c, res.body, `${path}.response.body`)
    c.nullableString(res.contentEncoding, `${path}.response.contentEncoding`)
  }
  if (e.error !== null) {
    const err = c.object(e.error, `${path}.error`)
    c.string(err.code, `${path}.error.code`)
    c.string(err.message, `${path}.error.message`)
  }
  return e as Exchange
}

/** A session without its exchanges: what the file holds around the `exchanges` array. */
export type SessionHead = Omit<Session, 'exchanges'>

/**
 * Validates a session's head (everything but the exchanges) and returns it typed.
 * @throws SessionFormatError naming the source and the JSON path that is wrong
 */
export function parseSessionHead(value: Json, where = 'session'): SessionHead {
  const c = new Checker(where)
  const s = c.object(value, '$')
  if (s.format !== SESSION_FORMAT) {
    if (typeof s.format === 'string')
      c.fail('$.format', `unknown format ${JSON.stringify(s.format)}; this reltape reads ${JSON.stringify(SESSION_FORMAT)}`)
    c.fail('$.format', `missing; expected ${JSON.stringify(SESSION_FORMAT)} (is this a reltape session file?)`)
  }
  c.string(s.name, '$.name')
  c.isoDate(s.createdAt, '$.createdAt')
  const rec = c.object(s.recording, '$.recording')
  c.string(rec.tool, '$.recording.tool')
  c.oneOf(rec.mode, '$.recording.mode', ['forward', 'reverse', 'import'] as const)
  c.nullableString(rec.upstream, '$.recording.upstream')
  c.array(s.identities, '$.identities').forEach((id, i) => {
    const o = c.object(id, `$.identities[${i}]`)
    c.string(o.alias, `$.identities[${i}].alias`)
    c.string(o.tokenHash, `$.identities[${i}].tokenHash`)
    c.nullableString(o.label ?? null, `$.identities[${i}].label`)
  })
  return s as SessionHead
}

/**
 * Validates a loaded session (as one object: a session built in code, a small fixture) and returns it typed.
 * @param where names the source in errors (usually the file path)
 * @throws SessionFormatError naming the file and the JSON path that is wrong
 */
export function parseSession(value: Json, where = 'session'): Session {
  parseSessionHead(value, where)
  const s = value as Record<string, Json>
  const exchanges = new Checker(where).array(s.exchanges, '$.exchanges')
  exchanges.forEach((e, i) => parseExchange(e, where, `$.exchanges[${i}]`))
  return s as Session
}

/** A fresh, empty session. */
export function newSession(name: string, recording: Recording, createdAt = new Date().toISOString()): Session {
  return { format: SESSION_FORMAT, name, createdAt, recording, identities: [], exchanges: [] }
}

/** A session name is a plain file name: no path segments, no hidden files, nothing empty. */
export function checkSessionName(name: string): string | null {
  if (name.length === 0) return 'a session name cannot be empty'
  if (name.length > 200) return 'a session name is at most 200 characters'
  if (/[\/\\]/.test(name) || name === '.' || name === '..') return `a session name is a plain name, without path segments: ${JSON.stringify(name)}`
  if (name.startsWith('.')) return `a session name cannot start with a dot: ${JSON.stringify(name)}`
  if (!/^[\p{L}\p{N}._@+-]+$/u.test(name)) return `a session name may hold letters, digits and . _ - @ + only: ${JSON.stringify(name)}`
  return null
}
