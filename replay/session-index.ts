/**
 * A session indexed for replay: each recording's key digest (from the session's index when the rules are the
 * defaults, computed once otherwise), the queues of recordings sharing a key (in recorded order), the preflights
 * per path. Recordings hold keys and offsets, not exchanges: a recorded response is read from disk when it is
 * first asked for and kept in a cache bounded in bytes.
 */
import { headerValue } from '../model/headers.js'
import { isJsonContentType, keyOf, type RequestShape } from '../model/match.js'
import type { Body, Exchange, Session, SessionHead } from '../model/session.js'
import { FROM_FILE, ROW_CORS, ROW_TRUNCATED, rowOf, type SessionRow } from '../store/session-index.js'
import type { SessionReader } from '../store/session-reader.js'
import { DEFAULT_MATCH_RULES, keyDigest } from '../store/request-key.js'
import { hostName } from '../store/host-check.js'
import type { ResolvedRules } from './options.js'
import { cleanHeaders, prepareResponse, type OutgoingHeaders, type PreparedResponse } from './prepared-response.js'
import { recordedShape } from './request-shape.js'

/** Where recordings come from: a session on disk (read by offset) or a Session object built in code. */
export type RecordingSource = {
  /** The session file, or `(in memory: NAME)`, for messages. */
  where: string
  head: SessionHead
  rows: readonly SessionRow[]
  exchangeSync(seq: number): Exchange
}

/**
 * A session on disk as replay reads it: the rows once, to index them, then only a locator (typed arrays of
 * offsets), so that a replay of 300,000 exchanges holds their keys and offsets, not their list rows.
 */
export function readerSource(reader: SessionReader): RecordingSource {
  const locator = reader.locator()
  return { where: reader.paths.file, head: reader.head, rows: reader.rows, exchangeSync: (seq) => locator.exchangeSync(seq) }
}

export function memorySource(session: Session): RecordingSource {
  const bySeq = new Map(session.exchanges.map((e) => [e.seq, e]))
  const { exchanges, ...head } = session
  const rows = [...exchanges].sort((a, b) => a.seq - b.seq).map((e) => rowOf(e, FROM_FILE, 0, 0))
  return { where: `(in memory: ${session.name})`, head, rows, exchangeSync: (seq) => bySeq.get(seq)! }
}

/** Exchanges read at most to learn the recorded origins (one per path). */
const MAX_ORIGIN_PROBES = 200

/** Prepared responses kept at most, in bytes of body; the least recently served go first. */
const RESPONSE_CACHE_BYTES = 64 << 20

/** One recorded exchange, keyed. Its exchange is read, and its response prepared, when first needed. */
export class Recording {
  #shape: RequestShape | null = null
  readonly #index: SessionIndex


  constructor(
    readonly seq: number,
    readonly method: string,
    readonly path: string,
    readonly key: string,
    readonly durationMs: number,
    readonly flags: number,
    index: SessionIndex,
  ) {
    this.#index = index
  }

  get exchange(): Exchange {
    return this.#index.exchangeOf(this.seq)
  }

  /** The recorded request's shape (to explain a miss); null when its body needs asynchronous parsing. */
  get shape(): RequestShape | null {
    if (this.#shape) return this.#shape
    const judged = recordedShape(this.exchange.request)
    return judged instanceof Promise ? null : (this.#shape = judged.shape)
  }

  get response(): PreparedResponse {
    return this.#index.responses.get(this)
  }
}

/**
 * The recorded request's JSON, for echo fields: parsed, or text under a JSON content type that parses (a body the
 * recorder kept as text, such as one nested past MAX_JSON_DEPTH), as a live request's body is judged.
 */
function recordedJson(body: Body): unknown {
  if (body.kind === 'json') return body.json
  if (body.kind !== 'text' || !isJsonContentType(body.contentType)) return undefined
  try {
    return JSON.parse(body.text) as unknown
  } catch {
    return undefined
  }
}

/** Prepared responses, bounded in bytes: replay holds what it serves, not the session. */
class ResponseCache {
  readonly #map = new Map<number, PreparedResponse>()
  #bytes = 0

  readonly #rules: ResolvedRules
  readonly #limit: number
  readonly #where: string

  constructor(rules: ResolvedRules, where: string, limit = RESPONSE_CACHE_BYTES) {
    this.#rules = rules
    this.#where = where
    this.#limit = limit
  }

  get(rec: Recording): PreparedResponse {
    const hit = this.#map.get(rec.seq)
    if (hit) {
      this.#map.delete(rec.seq)
      this.#map.set(rec.seq, hit)
      return hit
    }
    const exchange = rec.exchange
    const prepared = prepareResponse(exchange, recordedJson(exchange.request.body), this.#rules.echoPaths, this.#where)
    this.#map.set(rec.seq, prepared)
    this.#bytes += prepared.body.length
    for (const [seq, p] of this.#map) {
      if (this.#bytes <= this.#limit || seq === rec.seq) break
      this.#map.delete(seq)
      this.#bytes -= p.body.length
    }
    return prepared
  }
}

export class SessionIndex {
  readonly recordings: Recording[] = []
  /** Key digest → recordings with that key, in recorded order. */
  readonly queues = new Map<string, Recording[]>()
  /** Path → recorded OPTIONS exchanges for it. */
  readonly preflights = new Map<string, Recording[]>()
  /** Path → recordings on it (to find the nearest recording on a miss). */
  readonly byPath = new Map<string, Recording[]>()
  /** Exchanges not served: the client aborted them, so no answer was ever seen. */
  readonly skipped: number[] = []
  /** The largest recorded request body, in bytes. */
  largestRequest = 0
  /** Warnings found at load (truncated bodies). */
  readonly warnings: string[] = []
  readonly responses: ResponseCache
  /** The host names the session's requests were made to (lowercased, without port): replay answers a Host among them. */
  readonly recordedHosts = new Set<string>()
  readonly #cors = new Map<string, OutgoingHeaders | null>()
  /** Hosts as recorded (`host:port`), so that each is turned into a host name once. */
  readonly #hosts = new Set<string>()
  #origins: Set<string> | null = null

  /** Where exchanges are read from; the rows were needed once, to index, and are not kept. */
  readonly source: Omit<RecordingSource, 'rows'>

  constructor(
    source: RecordingSource,
    readonly rules: ResolvedRules,
  ) {
    this.source = { where: source.where, head: source.head, exchangeSync: source.exchangeSync }
    this.responses = new ResponseCache(rules, source.where)
  }

  get head(): SessionHead {
    return this.source.head
  }

  /** Exchanges recorded while replay runs (`record-missing`): kept here, as the reader knows only what was there. */
  readonly #added = new Map<number, Exchange>()

  exchangeOf(seq: number): Exchange {
    return this.#added.get(seq) ?? this.source.exchangeSync(seq)
  }

  /**
   * Adds an exchange recorded while replay runs under `key` (the live request's key): it joins the end of its queue,
   * the path's recordings and, for an OPTIONS, the path's preflights, as it will when the session is next loaded.
   */
  add(exchange: Exchange, key: string): Recording {
    this.#added.set(exchange.seq, exchange)
    const recording = this.register(rowOf(exchange, FROM_FILE, 0, 0), key)
    // The path's CORS headers are looked up again: this recording may be the first to have them.
    this.#cors.delete(recording.path)
    return recording
  }

  /** Files a recording under its key, its path and (for an OPTIONS) the path's preflights. */
  register(row: SessionRow, key: string): Recording {
    const s = row.summary
    const method = s.method.toUpperCase()
    const recording = new Recording(s.seq, method, pathOf(s.host, s.path), key, s.durationMs, row.flags, this)
    this.recordings.push(recording)
    push(this.queues, key, recording)
    push(this.byPath, recording.path, recording)
    if (method === 'OPTIONS') push(this.preflights, recording.path, recording)
    this.largestRequest = Math.max(this.largestRequest, s.requestSize)
    if (s.host && !this.#hosts.has(s.host)) {
      this.#hosts.add(s.host)
      this.recordedHosts.add(hostName(s.host))
    }
    return recording
  }

  /** The key digest of a request under this index's rules. */
  keyOf(shape: RequestShape): string {
    return keyDigest(keyOf(shape, this.rules.match))
  }

  /** The recorded `access-control-*` headers of a path (or null), read from the first recording on it that has them. */
  corsOf(path: string): OutgoingHeaders | null {
    if (this.#cors.has(path)) return this.#cors.get(path)!
    const rec = (this.byPath.get(path) ?? []).find((r) => r.flags & ROW_CORS)
    const cors = rec ? corsHeaders(cleanHeaders(rec.exchange.response?.headers ?? [])) : null
    this.#cors.set(path, cors)
    return cors
  }

  /**
   * The web origins the session was recorded from (lowercased): the `Origin` of one recording per path (one that
   * got CORS headers when the path has such, the first otherwise) and the `Access-Control-Allow-Origin` it got when
   * that names one origin. Read on first use, from at most MAX_ORIGIN_PROBES exchanges: an app's pages call from
   * one or a few origins, and a session of any size costs a bounded number of reads, once.
   */
  recordedOrigins(): ReadonlySet<string> {
    if (this.#origins) return this.#origins
    const out = new Set<string>()
    let probes = 0
    for (const list of this.byPath.values()) {
      if (probes++ >= MAX_ORIGIN_PROBES) break
      const rec = list.find((r) => r.flags & ROW_CORS) ?? list[0]!
      const e = rec.exchange
      const origin = headerValue(e.request.headers, 'origin')?.trim()
      if (origin && origin !== 'null') out.add(origin.toLowerCase())
      const allowed = e.response ? headerValue(e.response.headers, 'access-control-allow-origin')?.trim() : undefined
      if (allowed && allowed !== '*' && allowed !== 'null') out.add(allowed.toLowerCase())
    }
    return (this.#origins = out)
  }

  /** The CORS headers of any path that has them, for a preflight on a path never recorded. */
  anyCors(): OutgoingHeaders | null {
    const rec = this.recordings.find((r) => r.flags & ROW_CORS)
    return rec ? this.corsOf(rec.path) : null
  }
}

function corsHeaders(headers: OutgoingHeaders): OutgoingHeaders | null {
  let out: OutgoingHeaders | null = null
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('access-control-')) (out ??= {})[k] = v
  return out
}

/** The decoded path of a recorded URL, as `new URL()` gives it (the same as a recorded shape's). */
function pathOf(host: string, pathAndQuery: string): string {
  try {
    return new URL(pathAndQuery, `http://${host || 'x'}`).pathname
  } catch {
    return pathAndQuery.split('?')[0] ?? pathAndQuery
  }
}

/** True when the rules make the same key as the session index stores (replay's defaults). */
function defaultRules(rules: ResolvedRules): boolean {
  const { ignoreFields, matchHost, matchIdentity } = rules.match
  const defaults = DEFAULT_MATCH_RULES
  const samePaths = (a: readonly (readonly string[])[], b: readonly (readonly string[])[]) => a.length === b.length && a.every((p, i) => p.length === b[i]!.length && p.every((k, j) => k === b[i]![j]))
  return matchHost === defaults.matchHost && matchIdentity === defaults.matchIdentity && samePaths(ignoreFields, defaults.ignoreFields)
}

export async function indexSession(source: RecordingSource, rules: ResolvedRules): Promise<SessionIndex> {
  const index = new SessionIndex(source, rules)
  const fromIndex = defaultRules(rules)
  let n = 0
  for (const row of source.rows) {
    const s = row.summary
    if (s.status === null && s.transportError === 'CLIENT_ABORTED') {
      index.skipped.push(s.seq)
      continue
    }
    let key = fromIndex ? row.key : null
    if (key === null) {
      // Other rules (or a body judged asynchronously): the key is made from the exchange, read once.
      const { shape } = await recordedShape(source.exchangeSync(s.seq).request)
      key = index.keyOf(shape)
      // Reading every exchange is long on a large session: let the event loop breathe.
      if (++n % 500 === 0) await new Promise((r) => setImmediate(r))
    }
    const recording = index.register(row, key)
    // Said once, as replay starts (replay/app.ts logs them): an exchange added later is not warned about.
    if (row.flags & ROW_TRUNCATED)
      index.warnings.push(`exchange #${s.seq} (${recording.method} ${recording.path}) has a body cut by the recorder: it is served as far as it was recorded`)
  }
  return index
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
