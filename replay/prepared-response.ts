/**
 * A recorded response made ready to serve at load time: headers cleaned into one object, body as one
 * Buffer, and (where echo fields apply) a template that swaps the recorded request's value for the live one.
 */
import { tooDeepToWrite } from '../model/json-depth.js'
import { isJsonContentType, valuesAt, type FieldPath } from '../model/match.js'
import type { Body, Exchange } from '../model/session.js'
import { bodyBytes } from '../store/body-bytes.js'

export type OutgoingHeaders = Record<string, string | string[]>

/** Not forwarded: hop-by-hop, and the length and encoding of a body that is served decoded. */
const DROPPED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'content-encoding',
])

/** One place in the response text where an echo field's recorded value stands. */
type EchoSlot = { field: number; item: number }

export type PreparedResponse = {
  status: number
  statusText: string
  headers: OutgoingHeaders
  body: Buffer
  /**
   * `headers` plus the Content-Length of `body`, as the flat name, value, name, value … list `writeHead` takes:
   * built once, so that serving the recorded body as it is copies no header object per request.
   */
  rawHeaders: string[]
  /** The recorded Access-Control-Allow-Origin when it names one origin (then a live Origin is echoed instead). */
  specificOrigin: boolean
  /** Present when the body holds the recorded request's echo-field values. */
  echo: EchoTemplate | null
  /** The recorded body was cut by the recorder: what is served is incomplete. */
  truncated: boolean
}

export type EchoTemplate = {
  /** Text pieces between slots: pieces.length === slots.length + 1. */
  pieces: string[]
  slots: EchoSlot[]
  /** The recorded request's values, per echo field, per occurrence. */
  recorded: unknown[][]
}

export function cleanHeaders(pairs: ReadonlyArray<readonly [string, string]>): OutgoingHeaders {
  const out: OutgoingHeaders = {}
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase()
    if (DROPPED.has(lower)) continue
    const prev = out[lower]
    if (prev === undefined) out[lower] = value
    else if (Array.isArray(prev)) prev.push(value)
    else out[lower] = [prev, value]
  }
  return out
}

/** Headers as `writeHead`'s flat list, with the Content-Length of the body served. */
export function flatHeaders(headers: OutgoingHeaders, bodyLength: number): string[] {
  const out: string[] = []
  for (const [name, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) out.push(name, v)
    else out.push(name, value)
  }
  out.push('content-length', String(bodyLength))
  return out
}

/** A transport failure recorded instead of a response (the upstream was down): answered as a 502 that says so. */
function preparedError(e: Exchange): PreparedResponse {
  const body = Buffer.from(
    JSON.stringify({
      OK: false,
      Error: { Code: 'ReplayRecordedError', Message: `exchange #${e.seq} was recorded as a failure: ${e.error?.code ?? 'no response'}: ${e.error?.message ?? ''}` },
      Result: null,
    }),
  )
  const headers = { 'content-type': 'application/json; charset=utf-8', 'x-reltape': 'recorded-error' }
  return {
    status: 502,
    statusText: 'Bad Gateway',
    headers,
    body,
    rawHeaders: flatHeaders(headers, body.length),
    specificOrigin: false,
    echo: null,
    truncated: false,
  }
}

/**
 * @param where the session file (or in-memory session) the exchange comes from, for errors
 * @throws SessionFormatError naming it and the exchange for a JSON body held parsed only and too deep to write out
 */
export function prepareResponse(e: Exchange, requestJson: unknown, echoPaths: readonly FieldPath[], where: string): PreparedResponse {
  const res = e.response
  if (!res) return preparedError(e)
  const headers = cleanHeaders(res.headers)
  const acao = headers['access-control-allow-origin']
  let body: Buffer
  try {
    body = bodyBytes(res.body)
  } catch (err) {
    if (err instanceof RangeError && res.body.kind === 'json') throw tooDeepToWrite(where, e.seq, 'response.body.json')
    throw err
  }
  // A body the recorder cut at --max-body is served as far as it was kept, and says so: a client must not take it
  // for the whole answer.
  if (res.body.truncated) headers['x-reltape-truncated'] = `recorded ${res.body.kind === 'empty' ? 0 : res.body.size} bytes; the recorder kept the first ${body.length}`
  return {
    status: res.status,
    statusText: res.statusText,
    headers,
    body,
    rawHeaders: flatHeaders(headers, body.length),
    specificOrigin: typeof acao === 'string' && acao.trim() !== '*' && acao.trim() !== '',
    echo: jsonText(res.body) && requestJson !== undefined ? echoTemplate(body.toString('utf8'), requestJson, echoPaths) : null,
    truncated: res.body.truncated === true,
  }
}

/** JSON, parsed or kept as text under a JSON content type (the recorder keeps JSON nested past MAX_JSON_DEPTH as text). */
function jsonText(body: Body): boolean {
  return body.kind === 'json' || (body.kind === 'text' && isJsonContentType(body.contentType))
}

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

/**
 * Finds, in the response text, each `"<field name>": <recorded value>` and cuts the text around it.
 * Working on the text keeps every other byte as recorded.
 */
function echoTemplate(text: string, requestJson: unknown, echoPaths: readonly FieldPath[]): EchoTemplate | null {
  type Hit = { start: number; end: number; slot: EchoSlot }
  const hits: Hit[] = []
  const recorded: unknown[][] = []
  echoPaths.forEach((path, field) => {
    const values = valuesAt(requestJson, path)
    recorded.push(values)
    const name = [...path].reverse().find((s) => s !== '*' && !/^\d+$/.test(s))
    if (!name) return
    values.forEach((value, item) => {
      if (!isPrimitive(value)) return
      const re = new RegExp(`(${escapeRegExp(JSON.stringify(name))}\\s*:\\s*)${escapeRegExp(JSON.stringify(value))}(?=\\s*[,}\\]])`, 'g')
      for (const m of text.matchAll(re)) {
        const start = m.index + m[1]!.length
        hits.push({ start, end: m.index + m[0].length, slot: { field, item } })
      }
    })
  })
  if (hits.length === 0) return null
  hits.sort((a, b) => a.start - b.start)
  const pieces: string[] = []
  const slots: EchoSlot[] = []
  let at = 0
  for (const h of hits) {
    if (h.start < at) continue
    pieces.push(text.slice(at, h.start))
    slots.push(h.slot)
    at = h.end
  }
  pieces.push(text.slice(at))
  return { pieces, slots, recorded }
}

/** The body to serve for a live request: the recorded bytes, or the template filled with the live values. */
export function echoedBody(prepared: PreparedResponse, liveJson: unknown, echoPaths: readonly FieldPath[]): Buffer {
  const t = prepared.echo
  if (!t || liveJson === undefined) return prepared.body
  const live = echoPaths.map((p) => valuesAt(liveJson, p))
  const values = t.slots.map((slot) => {
    const recordedValue = t.recorded[slot.field]![slot.item]
    const liveValue = live[slot.field]?.[slot.item]
    return isPrimitive(liveValue) ? liveValue : recordedValue
  })
  // The live request sent what was recorded (a test replaying its own recording): the recorded bytes, as they are.
  if (values.every((v, i) => v === t.recorded[t.slots[i]!.field]![t.slots[i]!.item])) return prepared.body
  let out = t.pieces[0]!
  values.forEach((v, i) => (out += JSON.stringify(v) + t.pieces[i + 1]!))
  return Buffer.from(out, 'utf8')
}
