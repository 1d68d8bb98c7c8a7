/**
 * The replay decisions, apart from HTTP plumbing: which recording answers a live request (queues per key,
 * in recorded order), preflights, misses with the nearest recording, and the state (used, unused, misses).
 */
import { ERRORS, errorMessage, reasonPhrase } from '../model/errors.js'
import { describeDifference, differences, distance, type Difference, type RequestShape } from '../model/match.js'
import { OriginPolicy } from './browser-guard.js'
import type { ResolvedRules } from './options.js'
import { echoedBody, type OutgoingHeaders } from './prepared-response.js'
import type { MissRecorder } from './record-missing.js'
import { identityResolver, liveShape, splitTarget, type LiveRequest } from './request-shape.js'
import type { Recording, SessionIndex } from './session-index.js'

/**
 * Why a request was not answered from a recording. `upstream-failed`: `record-missing` forwarded it and the upstream
 * gave no answer (answered 502 `ReplayUpstreamFailed`, nothing recorded).
 */
export type MissReason = 'no-match' | 'exhausted' | 'too-large' | 'no-cors' | 'bad-request' | 'upstream-failed'

/** A request replay could not answer: kept in the state, listed by the test helper, answered as a 404 envelope. */
export type ReplayMiss = {
  method: string
  path: string
  reason: MissReason
  message: string
  nearest: { seq: number; method: string; path: string; differs: string[] } | null
}

/** What to send back. */
export type Answer = {
  status: number
  statusText: string
  headers: OutgoingHeaders
  body: Buffer
  /** `headers` with this body's Content-Length as writeHead's flat list, when prepared ahead (a recorded answer served unchanged). */
  rawHeaders?: string[]
  /** The recording served, or null for a miss or a preflight built from CORS headers. */
  recording: Recording | null
  miss: ReplayMiss | null
  /** Milliseconds to wait before answering (`--latency recorded`). */
  delayMs: number
}

/** How many requests missed since the start (or the last reset), and how many of them are kept with details. */
export type MissCounts = {
  total: number
  /** The latest misses, listed in `misses`: at most `limit`. */
  kept: number
  /** Older misses, counted only. */
  dropped: number
  /** The `keepMisses` option (`--keep-misses`). */
  limit: number
}

/**
 * What `GET /__reltape/state` answers: `misses` lists the latest misses (all of them until there are `limit`);
 * `recorded`, the exchanges `record-missing` added to the session since replay started (a reset keeps them).
 */
export type ReplayState = { used: number[]; unused: number[]; misses: ReplayMiss[]; missCounts: MissCounts; recorded: number[] }

export type UnusedRecording = { seq: number; method: string; path: string }

function header(headers: LiveRequest['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')
  return `${n}${s}`
}

/** Recordings compared with a request that missed, at most (per path). */
const MAX_NEAREST_CANDIDATES = 500

/** Differences named in a miss, at most: a body differing in thousands of fields gets a line, not a page. */
const MAX_DIFFERS = 20

/** Response headers a page on a refused origin must not get. */
function withoutCors(headers: OutgoingHeaders): OutgoingHeaders {
  const out: OutgoingHeaders = {}
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith('access-control-')) out[k] = v
  return out
}

export class Replayer {
  readonly #positions = new Map<string, number>()
  readonly #preflightPositions = new Map<string, number>()
  readonly #used = new Set<number>()
  /**
   * The latest misses, at most `rules.keepMisses` (oldest first); older ones are only counted. Live: the test
   * helper hands out this very array.
   */
  readonly misses: ReplayMiss[] = []
  #missTotal = 0
  readonly #identityOf: (token: string | null) => string | null
  readonly #log: ((line: string) => void) | null
  readonly #origins: OriginPolicy
  readonly #filler: MissRecorder | null
  readonly #recorded: number[] = []
  /** `refresh`: the live recordings, kept apart from the old session's (whose seqs they reuse). */
  readonly #live = new Set<Recording>()

  /** `filler`: in `record-missing` mode, what forwards a miss upstream and records it; null never contacts one. */
  constructor(
    readonly index: SessionIndex,
    readonly rules: ResolvedRules,
    filler: MissRecorder | null = null,
  ) {
    this.#identityOf = identityResolver(index.head)
    this.#log = rules.log
    this.#origins = new OriginPolicy(index, rules)
    this.#filler = filler
  }

  /** Whether a page on `origin` may read this answer; undefined without an Origin (not a cross-origin browser call). */
  #originAllowed(origin: string | undefined, method: string, path: string): boolean | undefined {
    if (origin === undefined) return undefined
    if (this.#origins.allows(origin)) return true
    this.#origins.refused(origin, `${method} ${path}`)
    return false
  }

  /**
   * Answers one live request: at once (no promise) unless its body is multipart, which takes a turn to parse.
   * Synchronous from the moment its body is judged, so concurrent requests never share a queue position.
   */
  answer(live: LiveRequest): Answer | Promise<Answer> {
    const origin = header(live.headers, 'origin')
    if (live.method === 'OPTIONS' && header(live.headers, 'access-control-request-method') !== undefined) return this.#preflight(live, origin)
    const judged = liveShape(live, this.#identityOf, this.rules.match.matchIdentity)
    return judged instanceof Promise ? judged.then(({ shape, json }) => this.#answerShape(shape, json, live, origin)) : this.#answerShape(judged.shape, judged.json, live, origin)
  }

  #answerShape(shape: RequestShape, json: unknown, live: LiveRequest, origin: string | undefined): Answer | Promise<Answer> {
    const key = this.index.keyOf(shape)
    // `refresh`: nothing is answered from the session; every request is answered live.
    if (this.#filler && this.rules.mode === 'refresh') return this.#fill(shape, key, json, live, origin)
    const queue = this.index.queues.get(key)
    if (!queue) return this.#filler ? this.#fill(shape, key, json, live, origin) : this.#miss(shape, live, 'no-match', origin)
    const pos = this.#positions.get(key) ?? 0
    let rec: Recording
    if (pos < queue.length) {
      rec = queue[pos]!
      this.#positions.set(key, pos + 1)
      this.#log?.(`HIT  ${shape.method} ${shape.path} → #${rec.seq} (${pos + 1}/${queue.length})`)
    } else if (this.rules.strict) {
      return this.#filler ? this.#fill(shape, key, json, live, origin) : this.#miss(shape, live, 'exhausted', origin, queue)
    } else {
      rec = queue[queue.length - 1]!
      this.#positions.set(key, pos + 1)
      this.#log?.(`HIT  ${shape.method} ${shape.path} → #${rec.seq} (again: ${ordinal(pos + 1)} request, ${queue.length} recorded)`)
    }
    this.#used.add(rec.seq)
    return this.#serve(rec, json, origin)
  }

  /**
   * `record-missing`: the request goes upstream; its live exchange, once journaled, joins the end of its key's queue
   * (used up, as served) and is served as any recording is, so the client gets what the next replay will give.
   */
  async #fill(shape: RequestShape, key: string, json: unknown, live: LiveRequest, origin: string | undefined): Promise<Answer> {
    const filler = this.#filler!
    const { exchange, error } = await filler.fill(live)
    if (!exchange) {
      const message = errorMessage('REPLAY_UPSTREAM_FAILED', { method: shape.method, path: shape.path, upstream: filler.upstream, code: error.code, reason: error.message })
      return this.missAnswer({ method: shape.method, path: shape.path, reason: 'upstream-failed', message, nearest: null }, origin)
    }
    const rec = this.index.add(exchange, key)
    this.#positions.set(key, this.index.queues.get(key)!.length)
    if (shape.method === 'OPTIONS') this.#preflightPositions.set(rec.path, this.index.preflights.get(rec.path)!.length)
    // `refresh` numbers a new session from 1: its seqs are not the old session's, so they do not mark any as used.
    if (this.rules.mode === 'refresh') this.#live.add(rec)
    else this.#used.add(rec.seq)
    this.#recorded.push(rec.seq)
    // A new key on the path: the nearest recording is looked for among it too from now on.
    this.#candidates.clear()
    this.#log?.(`LIVE ${shape.method} ${shape.path} → ${filler.upstream}: ${exchange.response?.status ?? '?'}, recorded as #${rec.seq}`)
    return this.#serve(rec, json, origin)
  }

  #serve(rec: Recording, json: unknown, origin: string | undefined): Answer {
    const r = rec.response
    let headers = r.headers
    const allowed = this.#originAllowed(origin, rec.method, rec.path)
    if (allowed === false) headers = withoutCors(headers)
    else if (allowed && r.specificOrigin && headers['access-control-allow-origin'] !== origin)
      headers = { ...headers, 'access-control-allow-origin': origin! }
    const body = r.echo ? echoedBody(r, json, this.rules.echoPaths) : r.body
    if (r.truncated) this.#log?.(`WARN #${rec.seq} ${rec.method} ${rec.path}: its response body was cut by the recorder; served as recorded (${r.headers['x-reltape-truncated']})`)
    return {
      status: r.status,
      statusText: r.statusText,
      headers,
      body,
      ...(headers === r.headers && body === r.body ? { rawHeaders: r.rawHeaders } : {}),
      recording: rec,
      miss: null,
      delayMs: this.rules.latency === 'recorded' ? Math.max(0, rec.durationMs) : 0,
    }
  }

  #preflight(live: LiveRequest, origin: string | undefined): Answer | Promise<Answer> {
    const target = splitTarget(live.url)
    const path = target.path
    // `record-missing`: a preflight never recorded for its path is a gap like any other; `refresh` sends every one.
    if (this.#filler && (this.rules.mode === 'refresh' || !this.index.preflights.has(path))) {
      const shape: RequestShape = { method: 'OPTIONS', path, query: [], host: '', identity: null, body: { kind: 'empty' } }
      return this.#fill(shape, this.index.keyOf(shape), undefined, live, origin)
    }
    // The number of preflights depends on the browser's cache, so they never run out: the last one repeats.
    const recorded = this.index.preflights.get(path)
    if (recorded) {
      const pos = this.#preflightPositions.get(path) ?? 0
      const rec = recorded[Math.min(pos, recorded.length - 1)]!
      this.#preflightPositions.set(path, pos + 1)
      this.#used.add(rec.seq)
      this.#log?.(`HIT  OPTIONS ${path} → #${rec.seq} (preflight)`)
      return this.#serve(rec, undefined, origin)
    }
    const own = this.index.corsOf(path)
    const cors = own ?? this.index.anyCors()
    if (!cors) {
      const shape: RequestShape = { method: 'OPTIONS', path, query: [], host: '', identity: null, body: { kind: 'empty' } }
      return this.#miss(shape, live, 'no-cors', origin)
    }
    if (this.#originAllowed(origin, 'OPTIONS', path) === false)
      return { status: 204, statusText: 'No Content', headers: { vary: 'Origin' }, body: Buffer.alloc(0), recording: null, miss: null, delayMs: 0 }
    const headers: OutgoingHeaders = { ...cors }
    const credentials = String(headers['access-control-allow-credentials'] ?? '').toLowerCase() === 'true'
    if (origin !== undefined && (credentials || headers['access-control-allow-origin'] !== '*')) headers['access-control-allow-origin'] = origin
    const method = header(live.headers, 'access-control-request-method')
    const requested = header(live.headers, 'access-control-request-headers')
    if (!headers['access-control-allow-methods'] && method) headers['access-control-allow-methods'] = method
    if (!headers['access-control-allow-headers'] && requested) headers['access-control-allow-headers'] = requested
    headers.vary = 'Origin'
    this.#log?.(`CORS OPTIONS ${path}: preflight answered from the recorded CORS headers${own ? ' of this path' : ' of another path'}`)
    return { status: 204, statusText: 'No Content', headers, body: Buffer.alloc(0), recording: null, miss: null, delayMs: 0 }
  }

  /** Path (or '' for all) → the first recording of each key there: the others are the same request. */
  readonly #candidates = new Map<string, Recording[]>()

  #candidatesFor(path: string): Recording[] {
    const where = this.index.byPath.has(path) ? path : ''
    let list = this.#candidates.get(where)
    if (!list) {
      const seen = new Set<string>()
      list = []
      for (const r of this.index.byPath.get(where) ?? this.index.recordings) {
        if (seen.has(r.key)) continue
        seen.add(r.key)
        list.push(r)
        // Each candidate is read from disk to be compared: a miss on a path recorded with thousands of distinct
        // requests compares the first of them, not all.
        if (list.length >= MAX_NEAREST_CANDIDATES) break
      }
      this.#candidates.set(where, list)
    }
    return list
  }

  #nearest(shape: RequestShape): { rec: Recording; differs: string[] } | null {
    const candidates = this.#candidatesFor(shape.path)
    let best: { rec: Recording; score: number; diffs: Difference[] } | null = null
    for (const rec of candidates) {
      const recorded = rec.shape
      if (!recorded) continue
      const diffs = differences(shape, recorded, this.rules.match)
      const score = distance(diffs)
      if (!best || score < best.score) best = { rec, score, diffs }
    }
    if (!best) return null
    const named = best.diffs.slice(0, MAX_DIFFERS).map(describeDifference)
    if (best.diffs.length > MAX_DIFFERS) named.push(`and ${best.diffs.length - MAX_DIFFERS} more`)
    return { rec: best.rec, differs: named }
  }

  #miss(shape: RequestShape, live: LiveRequest, reason: MissReason, origin: string | undefined, queue?: Recording[]): Answer {
    const what = `${shape.method} ${shape.path}`
    let nearest: ReplayMiss['nearest'] = null
    let message: string
    if (reason === 'exhausted' && queue) {
      const last = queue[queue.length - 1]!
      nearest = { seq: last.seq, method: last.method, path: last.path, differs: [] }
      message = `all ${queue.length} recording(s) of ${what} were already served (strict mode); the last was #${last.seq}`
    } else if (reason === 'no-cors') {
      message = `no recorded preflight or CORS headers for OPTIONS ${shape.path}`
    } else {
      const near = this.#nearest(shape)
      if (near) nearest = { seq: near.rec.seq, method: near.rec.method, path: near.rec.path, differs: near.differs }
      message = `no recording for ${what}` + (near ? `; nearest #${near.rec.seq} (${near.rec.method} ${near.rec.path}) differs in ${near.differs.join(', ') || 'nothing the key shows'}` : '; the session has no recordings')
    }
    return this.missAnswer({ method: shape.method, path: shape.path, reason, message, nearest }, origin)
  }

  /** Records a miss (counted; its details kept among the latest `keepMisses`) and builds its envelope, answered 404. */
  missAnswer(miss: ReplayMiss, origin: string | undefined): Answer {
    this.#missTotal++
    this.misses.push(miss)
    if (this.misses.length > this.rules.keepMisses) this.misses.shift()
    const short = miss.reason === 'no-match' && miss.nearest ? `nearest #${miss.nearest.seq} differs in ${miss.nearest.differs.join(', ') || 'nothing the key shows'}` : miss.message
    this.#log?.(`MISS ${miss.method} ${miss.path}: ${short}`)
    const failed = miss.reason === 'upstream-failed'
    const body = Buffer.from(
      JSON.stringify({
        OK: false,
        Error: {
          Code: failed ? 'ReplayUpstreamFailed' : 'ReplayMiss',
          Message: miss.message,
          Nearest: miss.nearest && { Seq: miss.nearest.seq, Method: miss.nearest.method, Path: miss.nearest.path, Differs: miss.nearest.differs },
        },
        Result: null,
      }),
    )
    const headers: OutgoingHeaders = { 'content-type': 'application/json; charset=utf-8', 'x-reltape': failed ? 'upstream-failed' : 'miss' }
    // Let a browser page on another origin (an allowed one) read why its call missed.
    if (origin !== undefined && this.#originAllowed(origin, miss.method, miss.path)) {
      headers['access-control-allow-origin'] = origin
      headers['access-control-allow-credentials'] = 'true'
      headers['access-control-expose-headers'] = 'x-reltape'
      headers.vary = 'Origin'
    }
    const status = failed ? ERRORS.REPLAY_UPSTREAM_FAILED.status : ERRORS.REPLAY_MISS.status
    return { status, statusText: reasonPhrase(status), headers, body, recording: null, miss, delayMs: 0 }
  }

  /** A request whose body is larger than any recording's (and than the server accepts): refused as a miss. */
  tooLarge(method: string, url: string, size: number | null, origin: string | undefined): Answer {
    const path = splitTarget(url).path
    return this.missAnswer(
      {
        method,
        path,
        reason: 'too-large',
        message: `the request body${size !== null ? ` (${size} bytes)` : ''} is larger than any recording's (the largest recorded request body is ${this.index.largestRequest} bytes); refused unread`,
        nearest: null,
      },
      origin,
    )
  }

  /** Rewinds every queue and forgets what was used and missed. */
  reset(): void {
    this.#positions.clear()
    this.#preflightPositions.clear()
    this.#used.clear()
    this.misses.length = 0
    this.#missTotal = 0
    this.#log?.('RESET every queue rewound')
  }

  /** The seqs `record-missing` added to the session since replay started. */
  recorded(): number[] {
    return [...this.#recorded]
  }

  unused(): UnusedRecording[] {
    return this.index.recordings.filter((r) => !this.#live.has(r) && !this.#used.has(r.seq)).map((r) => ({ seq: r.seq, method: r.method, path: r.path }))
  }

  missCounts(): MissCounts {
    const kept = this.misses.length
    return { total: this.#missTotal, kept, dropped: this.#missTotal - kept, limit: this.rules.keepMisses }
  }

  state(): ReplayState {
    const used = [...this.#used].sort((a, b) => a - b)
    return { used, unused: this.unused().map((u) => u.seq), misses: [...this.misses], missCounts: this.missCounts(), recorded: [...this.#recorded] }
  }
}
