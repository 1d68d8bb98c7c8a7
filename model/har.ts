/**
 * HAR 1.2 ↔ session mapping that needs no I/O: checking a HAR entry (errors name the JSON path), headers, times,
 * failures, cookies and query strings, and the reltape-only facts an export keeps under `_reltape`. Bodies need
 * bytes (base64, gzip, hashes) and live in store/har-body.ts.
 *
 * The dialects differ in details this module absorbs: DevTools writes HTTP/2 pseudo-headers and `response._error`,
 * Playwright `status: -1` with `_failureText`, mitmproxy `response._error` and timings that may be null, Firefox
 * and HTTP Toolkit dates with a UTC offset.
 */
import type { Header as HarHeader, Cookie as HarCookie, QueryString as HarQuery, Timings as HarTimings } from 'har-format'
import { ReltapeError } from './errors.js'
import { describeJson, JsonChecker } from './json-checker.js'
import type { AuthVia, ExchangeError, HeaderPair, Identity, Recording } from './session.js'

export type { Har, Log as HarLog, Entry as HarEntry, Header as HarHeader, Content as HarContent, PostData as HarPostData } from 'har-format'

/** Thrown for a file that is not a HAR reltape can read: names the file and the JSON path (`log.entries[3].request.url`). */
export class HarFormatError extends ReltapeError<'HAR_INVALID'> {
  constructor(
    readonly file: string,
    readonly path: string,
    readonly problem: string,
  ) {
    super('HAR_INVALID', { file, path, problem })
    this.name = 'HarFormatError'
  }
}

/** What an export keeps of a body that the HAR's own fields cannot say. */
export type ReltapeBodyFacts = {
  /** The recorded size, where it is not the length of the bytes exported (a cut body, a multipart rebuilt from its parts). */
  size?: number
  truncated?: boolean
  omitted?: boolean
}

/** Reltape-only facts of an exchange, kept in a HAR entry's `_reltape`. */
export type ReltapeEntryFacts = {
  seq: number
  id: string
  /** The identity alias of the request's token and where it came (cookie or header). */
  identity?: string
  via?: AuthVia
  /** The transport failure, with reltape's code. */
  error?: ExchangeError
  request?: ReltapeBodyFacts
  response?: ReltapeBodyFacts
}

/** Reltape-only facts of a session, kept in `log._reltape`. */
export type ReltapeLogFacts = {
  format: string
  session: string
  createdAt: string
  recording: Recording
  identities: Identity[]
}

/** A HAR param (`postData.params`): a form field, or a file by name. */
export type HarParamIn = { name: string; value?: string; fileName?: string; contentType?: string }

/** The body fields of `request.postData` or `response.content` that import reads, checked. */
export type HarBodyIn = {
  mimeType?: string
  text?: string
  encoding?: string
  /** A body file: a Playwright zip's entry, or a file beside a `.har` recorded with `content: 'attach'`. */
  file?: string
  size?: number
  params?: HarParamIn[]
}

/** A HAR entry as import reads it: checked, with the dialects' variants brought to one shape. */
export type HarEntryIn = {
  startedAt: string
  durationMs: number
  resourceType?: string
  request: { method: string; url: string; httpVersion: string; headers: HeaderPair[]; bodySize?: number; postData?: HarBodyIn }
  response: { status: number; statusText: string; headers: HeaderPair[]; content?: HarBodyIn } | null
  /** A failure text (`_error`, `_failureText`), when the entry has one. */
  failure?: string
  reltape?: ReltapeEntryFacts
}

type Json = unknown

class Checker extends JsonChecker {
  constructor(readonly file: string) {
    super(true)
  }

  fail(path: string, problem: string): never {
    throw new HarFormatError(this.file, path, problem)
  }

  /** An object that may be absent (or null, as some exporters write). */
  optionalObject(value: Json, path: string): Record<string, Json> | undefined {
    return value === undefined || value === null ? undefined : this.object(value, path)
  }

  /** A string that may be absent (or null, as some exporters write). */
  optionalString(value: Json, path: string): string | undefined {
    return value === undefined || value === null ? undefined : this.string(value, path)
  }

  optionalNumber(value: Json, path: string): number | undefined {
    return value === undefined || value === null ? undefined : this.number(value, path)
  }
}

/**
 * Header objects to pairs, in order. HTTP/2 pseudo-headers (`:method`, `:path`, `:scheme`, `:status`) are dropped,
 * as the recorder drops them; `:authority` becomes `host` when the entry has no Host header of its own.
 */
function checkHeaders(c: Checker, value: Json, path: string): HeaderPair[] {
  if (value === undefined || value === null) return []
  const out: HeaderPair[] = []
  let authority: string | undefined
  c.array(value, path).forEach((h, i) => {
    const p = `${path}[${i}]`
    const o = c.object(h, p)
    const name = c.string(o.name, `${p}.name`)
    const v = o.value === undefined || o.value === null ? '' : c.string(o.value, `${p}.value`)
    if (name.startsWith(':')) {
      if (name.toLowerCase() === ':authority') authority = v
      return
    }
    out.push([name, v])
  })
  if (authority !== undefined && !out.some(([n]) => n.toLowerCase() === 'host')) out.unshift(['host', authority])
  return out
}

function checkBody(c: Checker, value: Json, path: string): HarBodyIn | undefined {
  const o = c.optionalObject(value, path)
  if (!o) return undefined
  const body: HarBodyIn = {}
  const mimeType = c.optionalString(o.mimeType, `${path}.mimeType`)
  if (mimeType !== undefined) body.mimeType = mimeType
  const text = c.optionalString(o.text, `${path}.text`)
  if (text !== undefined) body.text = text
  const encoding = c.optionalString(o.encoding, `${path}.encoding`)
  if (encoding !== undefined) body.encoding = encoding
  const file = c.optionalString(o._file, `${path}._file`)
  if (file !== undefined) body.file = file
  const size = c.optionalNumber(o.size, `${path}.size`)
  if (size !== undefined) body.size = size
  if (o.params !== undefined && o.params !== null) {
    body.params = c.array(o.params, `${path}.params`).map((param, i) => {
      const pp = `${path}.params[${i}]`
      const po = c.object(param, pp)
      const out: HarParamIn = { name: c.string(po.name, `${pp}.name`) }
      const v = c.optionalString(po.value, `${pp}.value`)
      if (v !== undefined) out.value = v
      const f = c.optionalString(po.fileName, `${pp}.fileName`)
      if (f !== undefined) out.fileName = f
      const t = c.optionalString(po.contentType, `${pp}.contentType`)
      if (t !== undefined) out.contentType = t
      return out
    })
  }
  return body
}

/** `HTTP/1.1` → `1.1`, `http/2.0`, `HTTP/2`, `h2` → `2.0`, `h3` → `3.0`; anything else as written, without `HTTP/`. */
export function httpVersionFromHar(v: string | undefined): string {
  const s = (v ?? '').trim()
  const lower = s.toLowerCase()
  if (lower === 'h2' || lower === 'h2c') return '2.0'
  if (lower === 'h3' || lower.startsWith('h3-')) return '3.0'
  const m = /^https?\/(\d+)(?:\.(\d+))?$/i.exec(s)
  if (m) return `${m[1]}.${m[2] ?? '0'}`
  return s.replace(/^https?\//i, '')
}

/** `1.1` → `HTTP/1.1`; an empty version stays empty. */
export function httpVersionToHar(v: string): string {
  return v === '' ? '' : `HTTP/${v}`
}

/** The sum of a HAR's timings, the parts that were measured (−1 and null mean not measured). */
function sumTimings(t: Record<string, Json> | undefined): number | undefined {
  if (!t) return undefined
  let sum = 0
  let any = false
  for (const k of ['blocked', 'dns', 'connect', 'send', 'wait', 'receive']) {
    const v = t[k]
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) {
      sum += v
      any = true
    }
  }
  return any ? sum : undefined
}

function checkFacts(c: Checker, value: Json, path: string): ReltapeEntryFacts | undefined {
  const o = c.optionalObject(value, path)
  if (!o) return undefined
  const seq = c.optionalNumber(o.seq, `${path}.seq`)
  const id = c.optionalString(o.id, `${path}.id`)
  const facts: ReltapeEntryFacts = { seq: seq !== undefined && Number.isInteger(seq) && seq >= 1 ? seq : 0, id: id ?? '' }
  const identity = c.optionalString(o.identity, `${path}.identity`)
  if (identity !== undefined) facts.identity = identity
  if (o.via === 'cookie' || o.via === 'authorization') facts.via = o.via
  const err = c.optionalObject(o.error, `${path}.error`)
  if (err) facts.error = { code: c.string(err.code, `${path}.error.code`), message: c.string(err.message, `${path}.error.message`) }
  for (const side of ['request', 'response'] as const) {
    const b = c.optionalObject(o[side], `${path}.${side}`)
    if (!b) continue
    const bf: ReltapeBodyFacts = {}
    const size = c.optionalNumber(b.size, `${path}.${side}.size`)
    if (size !== undefined && Number.isInteger(size) && size >= 0) bf.size = size
    if (b.truncated === true) bf.truncated = true
    if (b.omitted === true) bf.omitted = true
    facts[side] = bf
  }
  return facts
}

/**
 * Checks one HAR entry and reads it into one shape. What HAR requires and import needs is required (the request's
 * method and absolute URL, the start time); what exporters leave out is tolerated (headers, timings, a response).
 * @param path where the entry sits, e.g. `log.entries[3]`
 * @throws HarFormatError naming the file and the JSON path
 */
export function checkHarEntry(value: Json, file: string, path: string): HarEntryIn {
  const c: Checker = new Checker(file)
  const e = c.object(value, path)
  const started = c.string(e.startedDateTime, `${path}.startedDateTime`)
  const at = Date.parse(started)
  if (Number.isNaN(at)) c.fail(`${path}.startedDateTime`, `expected a date, found ${describeJson(started)}`)
  const req = c.object(e.request, `${path}.request`)
  const method = c.string(req.method, `${path}.request.method`)
  if (method === '') c.fail(`${path}.request.method`, 'empty')
  const url = c.string(req.url, `${path}.request.url`)
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#\s]/i.test(url)) c.fail(`${path}.request.url`, `expected an absolute URL, found ${describeJson(url)}`)
  const timings = c.optionalObject(e.timings, `${path}.timings`)
  const time = c.optionalNumber(e.time, `${path}.time`)
  const durationMs = time !== undefined && time >= 0 ? time : (sumTimings(timings) ?? 0)
  const entry: HarEntryIn = {
    startedAt: new Date(at).toISOString(),
    durationMs,
    request: {
      method,
      url,
      httpVersion: httpVersionFromHar(c.optionalString(req.httpVersion, `${path}.request.httpVersion`)),
      headers: checkHeaders(c, req.headers, `${path}.request.headers`),
    },
    response: null,
  }
  const bodySize = c.optionalNumber(req.bodySize, `${path}.request.bodySize`)
  if (bodySize !== undefined) entry.request.bodySize = bodySize
  const postData = checkBody(c, req.postData, `${path}.request.postData`)
  if (postData) entry.request.postData = postData
  const resourceType = c.optionalString(e._resourceType, `${path}._resourceType`)
  if (resourceType !== undefined) entry.resourceType = resourceType
  const res = c.optionalObject(e.response, `${path}.response`)
  // DevTools and mitmproxy put the failure on the response, Playwright too (`_failureText`); some tools on the entry.
  const failure = [res?._error, res?._failureText, e._error, e._failureText].find((v): v is string => typeof v === 'string' && v !== '')
  if (failure !== undefined) entry.failure = failure
  if (res) {
    const status = c.optionalNumber(res.status, `${path}.response.status`)
    if (status === undefined) c.fail(`${path}.response.status`, 'missing')
    if (!Number.isInteger(status)) c.fail(`${path}.response.status`, `expected a whole number, found ${status}`)
    const headers = checkHeaders(c, res.headers, `${path}.response.headers`)
    const content = checkBody(c, res.content, `${path}.response.content`)
    // Status 0 (DevTools, Firefox, HTTP Toolkit, mitmproxy) and −1 (Playwright) mean that no response came.
    if (status > 0) entry.response = { status, statusText: c.optionalString(res.statusText, `${path}.response.statusText`) ?? '', headers, ...(content ? { content } : {}) }
  }
  const facts = checkFacts(c, e._reltape, `${path}._reltape`)
  if (facts) entry.reltape = facts
  return entry
}

/** The session-level facts of a reltape export (`log._reltape`), when they are there and whole; else undefined. */
export function logFactsOf(value: Json): ReltapeLogFacts | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const o = value as Record<string, Json>
  if (typeof o.format !== 'string' || typeof o.session !== 'string' || !Array.isArray(o.identities)) return undefined
  const identities = o.identities.filter(
    (i): i is Identity => typeof i === 'object' && i !== null && typeof (i as Identity).alias === 'string' && typeof (i as Identity).tokenHash === 'string',
  )
  return { format: o.format, session: o.session, createdAt: String(o.createdAt ?? ''), recording: o.recording as Recording, identities }
}

/** `name/version` of a HAR's creator (`log.creator`), for the session's `recording.tool`. */
export function creatorOf(value: Json): string {
  if (typeof value !== 'object' || value === null) return 'unknown HAR creator'
  const o = value as Record<string, Json>
  const name = typeof o.name === 'string' && o.name.trim() ? o.name.trim() : 'unknown HAR creator'
  const version = typeof o.version === 'string' && o.version.trim() ? o.version.trim() : ''
  return version ? `${name}/${version}` : name
}

/**
 * A reltape error code for a browser's or tool's failure text: Chromium's `net::ERR_…`, Firefox's `NS_ERROR_…`,
 * WebKit's sentences, Node's `E…` codes. Anything else is `REQUEST_FAILED`, with the text as its message.
 */
export function failureCode(text: string): string {
  const t = text.toUpperCase()
  if (/CERT|SSL|TLS|SEC_ERROR|SECURE CONNECTION/.test(t)) return 'UPSTREAM_TLS'
  if (/TIMED?_?OUT|TIMEOUT|ETIMEDOUT/.test(t)) return 'TIMEOUT'
  if (/CONNECTION[_ ]REFUSED|NAME_NOT_RESOLVED|NAME[_ ]RESOLUTION|ADDRESS_UNREACHABLE|INTERNET_DISCONNECTED|CONNECTION_FAILED|UNKNOWN_HOST|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|COULD NOT CONNECT|HOSTNAME COULD NOT BE FOUND|ERROR CONNECTING/.test(t))
    return 'UPSTREAM_UNREACHABLE'
  if (/CONNECTION[_ ]RESET|CONNECTION[_ ]CLOSED|EMPTY_RESPONSE|NET_RESET|NET_INTERRUPT|ECONNRESET|SOCKET HANG UP|CONNECTION WAS LOST|HTTP2_PROTOCOL/.test(t)) return 'UPSTREAM_RESET'
  if (/ABORTED|CANCELLED|CANCELED|BINDING_ABORTED/.test(t)) return 'CLIENT_ABORTED'
  return 'REQUEST_FAILED'
}

/** The exchange's error for an entry: the exported one, the entry's failure text, or "no response" for status 0 / −1. */
export function errorOf(entry: HarEntryIn): ExchangeError | null {
  if (entry.reltape?.error) return entry.reltape.error
  if (entry.failure !== undefined) return { code: failureCode(entry.failure), message: entry.failure }
  if (!entry.response) return { code: 'NO_RESPONSE', message: 'the HAR records no response for this request (status 0 or -1, no error text)' }
  return null
}

// ── export ────────────────────────────────────────────────────────────────────────────────────────────────────────

export function harHeaders(pairs: readonly HeaderPair[]): HarHeader[] {
  return pairs.map(([name, value]) => ({ name, value }))
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '))
  } catch {
    return s
  }
}

/** The query string of a URL as HAR lists it: name and value pairs, decoded, in order. */
export function harQueryString(url: string): HarQuery[] {
  const q = url.indexOf('?')
  if (q < 0) return []
  const hash = url.indexOf('#', q)
  const query = url.slice(q + 1, hash < 0 ? undefined : hash)
  if (query === '') return []
  return query.split('&').map((part) => {
    const eq = part.indexOf('=')
    return eq < 0 ? { name: decodeComponent(part), value: '' } : { name: decodeComponent(part.slice(0, eq)), value: decodeComponent(part.slice(eq + 1)) }
  })
}

/** The cookies a request sent (its `Cookie` headers), as HAR lists them. */
export function harRequestCookies(headers: readonly HeaderPair[]): HarCookie[] {
  const out: HarCookie[] = []
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'cookie') continue
    for (const part of v.split(';')) {
      const eq = part.indexOf('=')
      if (eq < 0) continue
      out.push({ name: part.slice(0, eq).trim(), value: part.slice(eq + 1).trim() })
    }
  }
  return out
}

/** The cookies a response set (its `Set-Cookie` headers), with their attributes, as HAR lists them. */
export function harResponseCookies(headers: readonly HeaderPair[]): HarCookie[] {
  const out: HarCookie[] = []
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'set-cookie') continue
    const [first = '', ...attrs] = v.split(';')
    const eq = first.indexOf('=')
    if (eq < 0) continue
    const cookie: HarCookie = { name: first.slice(0, eq).trim(), value: first.slice(eq + 1).trim() }
    for (const attr of attrs) {
      const aeq = attr.indexOf('=')
      const key = (aeq < 0 ? attr : attr.slice(0, aeq)).trim().toLowerCase()
      const val = aeq < 0 ? '' : attr.slice(aeq + 1).trim()
      if (key === 'path') cookie.path = val
      else if (key === 'domain') cookie.domain = val
      else if (key === 'expires') {
        const t = Date.parse(val)
        if (!Number.isNaN(t)) cookie.expires = new Date(t).toISOString()
      } else if (key === 'httponly') cookie.httpOnly = true
      else if (key === 'secure') cookie.secure = true
      else if (key === 'samesite') (cookie as HarCookie & { sameSite?: string }).sameSite = val
    }
    out.push(cookie)
  }
  return out
}

/** reltape measures one span per exchange: HAR gets it as `wait`, the phases it did not measure as −1. */
export function harTimings(durationMs: number): HarTimings {
  return { blocked: -1, dns: -1, ssl: -1, connect: -1, send: 0, wait: durationMs, receive: 0 }
}
