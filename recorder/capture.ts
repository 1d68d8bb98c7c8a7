/**
 * mockttp events → exchanges. The `request`, `response` and `abort` events share one id per exchange;
 * they fire after the client has been answered, so nothing here sits on the request's path. Each finished
 * exchange is journaled at once by the session writer.
 */
import type { AbortedRequest, CompletedRequest, CompletedResponse } from 'mockttp'
import { cookieValue, findToken, SESSION_COOKIE } from '../model/auth.js'
import type { Body, Exchange, ExchangeError, HeaderPair, RecordedRequest, RecordedResponse } from '../model/session.js'
import type { SessionWriter } from '../store/store.js'
import { headerValue } from '../model/headers.js'
import { classifyBody, decodeBody } from './body.js'
import { consoleLine } from './console-line.js'
import { passthroughErrorCode, upstreamError } from './errors.js'
import type { TrafficFilter } from './filter.js'
import { redactExchange, type Redactions } from './redact.js'

export type CaptureOptions = {
  writer: SessionWriter
  filter: TrafficFilter
  /** Bodies larger than this are stored cut, with `truncated: true`. */
  maxBody: number
  /** Replace each token with `<identity-N>` in what is stored. */
  redact: boolean
  /** Told about each recorded exchange, with its screen line. */
  onExchange?: (exchange: Exchange, line: string) => void
  /** Told about problems that do not stop recording. */
  warn: (message: string) => void
  /** How long the upstream may take to answer before the exchange is a TIMEOUT (0: no limit). */
  upstreamTimeoutMs?: number
  /** Closes the client's connection of a timed-out request; true when it could. */
  closeClient?: (remotePort: number | undefined) => boolean
}

export type CaptureStats = { recorded: number; skipped: number; failed: number; inFlight: number; identities: number }

type Pending = {
  request?: CompletedRequest
  response?: CompletedResponse
  seq?: number
  verdict?: 'record' | 'response'
  /** When a response arrived before its request event. */
  since?: number
}

/** How long an answer waits for its request event before it is given up. */
const ORPHAN_MS = 30_000

/** Headers as stored: pairs in wire order and case, HTTP/2 pseudo-headers dropped. */
function wireHeaders(raw: ReadonlyArray<[string, string]>): HeaderPair[] {
  const out: HeaderPair[] = []
  for (const [n, v] of raw) if (!n.startsWith(':')) out.push([n, v])
  return out
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return '?'
  }
}

export class Capture {
  readonly #o: CaptureOptions
  readonly #pending = new Map<string, Pending>()
  readonly #builds = new Set<Promise<void>>()
  /** Ids whose request was skipped or already recorded as aborted: their later events are ignored. */
  readonly #settled = new Set<string>()
  /** Ids given up on for the upstream timeout: their abort is a TIMEOUT. */
  readonly #timedOut = new Set<string>()
  #watchdog: NodeJS.Timeout | null = null
  #tokens: string[] = []
  #redactions: Redactions = []
  #recorded = 0
  #skipped = 0
  #failed = 0

  constructor(options: CaptureOptions) {
    this.#o = options
    const limit = options.upstreamTimeoutMs ?? 0
    if (limit > 0 && options.closeClient) {
      // One scan a fraction of the limit apart, rather than a timer per request.
      this.#watchdog = setInterval(() => this.#expire(limit), Math.max(50, Math.min(1000, limit / 4)))
      this.#watchdog.unref()
    }
  }

  #expire(limit: number): void {
    const now = performance.now()
    for (const [id, entry] of this.#pending) {
      const req = entry.request
      if (!req || entry.response || this.#timedOut.has(id)) continue
      if (now - req.timingEvents.startTimestamp < limit) continue
      this.#timedOut.add(id)
      if (!this.#o.closeClient!(req.remotePort)) this.#timedOut.delete(id)
    }
  }

  stats(): CaptureStats {
    return {
      recorded: this.#recorded,
      skipped: this.#skipped,
      failed: this.#failed,
      inFlight: this.waiting + this.#builds.size,
      identities: this.#o.writer.identities.length,
    }
  }

  /** Tokens seen so far (to mask them on screen). */
  get tokens(): readonly string[] {
    return this.#tokens
  }

  /** Requests still waiting for their response. */
  get waiting(): number {
    let n = 0
    for (const e of this.#pending.values()) if (e.request) n++
    return n
  }

  onRequest = (req: CompletedRequest): void => {
    if (this.#settled.delete(req.id)) return
    const entry = this.#pending.get(req.id) ?? {}
    const q = req.path.indexOf('?')
    const headers = req.rawHeaders
    const verdict = this.#o.filter.judge({
      method: req.method,
      host: hostOf(req.url),
      path: q < 0 ? req.path : req.path.slice(0, q),
      requestContentType: headerValue(headers, 'content-type'),
      accept: headerValue(headers, 'accept'),
      preflight: req.method === 'OPTIONS' && headerValue(headers, 'access-control-request-method') !== undefined,
    })
    if (verdict === 'skip') {
      // Its response event usually comes later: remember the id so that it is dropped then.
      if (!this.#pending.delete(req.id)) this.#settled.add(req.id)
      this.#skipped++
      return
    }
    entry.request = req
    entry.verdict = verdict
    if (verdict === 'record') entry.seq = this.#o.writer.nextSeq()
    this.#pending.set(req.id, entry)
    if (entry.response) this.#finish(req.id, entry)
  }

  onResponse = (res: CompletedResponse): void => {
    if (this.#settled.delete(res.id)) return
    const entry = this.#pending.get(res.id)
    if (!entry) {
      // The request event has not come yet. It may never come: an upstream can answer before a client that
      // then vanishes has sent its whole body. Such answers are dropped by the sweep.
      this.#pending.set(res.id, { response: res, since: Date.now() })
      this.#sweepSoon()
      return
    }
    entry.response = res
    if (entry.request) this.#finish(res.id, entry)
  }

  onAbort = (req: AbortedRequest): void => {
    if (this.#settled.delete(req.id)) return
    const entry = this.#pending.get(req.id)
    const request = entry?.request
    if (!request) {
      // Its request event may still come (mockttp announces it once the body has ended): drop it then.
      this.#settled.add(req.id)
      // Aborted before its body was complete: judge it from what is known, without a body.
      const q = req.path.indexOf('?')
      const verdict = this.#o.filter.judge({
        method: req.method,
        host: hostOf(req.url),
        path: q < 0 ? req.path : req.path.slice(0, q),
        requestContentType: headerValue(req.rawHeaders, 'content-type'),
        preflight: false,
      })
      // WebSockets are passed on, not recorded (their close can come as an abort); an aborted request that only
      // its response's type could have qualified is not API traffic as far as anyone can tell.
      if (verdict !== 'record' || /^wss?:/i.test(req.url)) {
        this.#skipped++
        return
      }
    }
    const seq = entry?.seq ?? this.#o.writer.nextSeq()
    this.#pending.delete(req.id)
    // A client that leaves makes mockttp cut the upstream request too, which tags it `passthrough-error:ECONNRESET`:
    // only once the response has begun can such a tag mean that the upstream broke off.
    const t = req.timingEvents
    const responseBegun = t.headersSentTimestamp !== undefined && (t.abortedTimestamp === undefined || t.headersSentTimestamp < t.abortedTimestamp)
    const nodeCode = responseBegun ? passthroughErrorCode(req.tags) : null
    const timedOut = this.#timedOut.delete(req.id)
    const error: ExchangeError = timedOut
      ? { code: 'TIMEOUT', message: `the upstream did not answer within ${((this.#o.upstreamTimeoutMs ?? 0) / 1000).toFixed(1)} s: ${hostOf(req.url)}; reltape closed the client's connection` }
      : nodeCode
      ? upstreamError(nodeCode, hostOf(req.url), req.error?.message)
      : { code: 'CLIENT_ABORTED', message: `the client closed the connection before the exchange finished${req.error?.message ? ` (${req.error.message})` : ''}` }
    const end = req.timingEvents.abortedTimestamp ?? req.timingEvents.startTimestamp
    this.#track(this.#build(seq, req, request?.body.buffer ?? Buffer.alloc(0), null, error, end - req.timingEvents.startTimestamp))
  }

  #finish(id: string, entry: Pending): void {
    const req = entry.request!
    const res = entry.response!
    this.#pending.delete(id)
    if (entry.verdict === 'response') {
      if (this.#o.filter.judgeResponse(headerValue(res.rawHeaders, 'content-type')) === 'skip') {
        this.#skipped++
        return
      }
      entry.seq = this.#o.writer.nextSeq()
    }
    const t = res.timingEvents
    const end = t.responseSentTimestamp ?? t.abortedTimestamp ?? t.headersSentTimestamp ?? t.startTimestamp
    const nodeCode = passthroughErrorCode(res.tags)
    if (nodeCode) {
      // mockttp's own 502: the upstream never answered. A real upstream 502 carries no such tag.
      const error = upstreamError(nodeCode, hostOf(req.url), res.body.buffer.toString('utf8'))
      this.#track(this.#build(entry.seq!, req, req.body.buffer, null, error, end - req.timingEvents.startTimestamp))
      return
    }
    this.#track(this.#build(entry.seq!, req, req.body.buffer, res, null, end - req.timingEvents.startTimestamp))
  }

  #sweepTimer: NodeJS.Timeout | null = null

  #sweepSoon(): void {
    if (this.#sweepTimer) return
    this.#sweepTimer = setTimeout(() => {
      this.#sweepTimer = null
      this.sweep(Date.now() - ORPHAN_MS)
    }, ORPHAN_MS)
    this.#sweepTimer.unref()
  }

  /** Drops answers whose request never completed (its event never came), older than `before`. */
  sweep(before = Infinity): void {
    let orphans = 0
    for (const [id, entry] of this.#pending) {
      if (!entry.request && entry.since !== undefined && entry.since <= before) {
        this.#pending.delete(id)
        orphans++
      }
    }
    if (orphans) this.#o.warn(`${orphans} answer(s) came for requests whose body never finished (the client left): not recorded`)
    for (const entry of this.#pending.values()) if (!entry.request) this.#sweepSoon()
  }

  #track(p: Promise<void>): void {
    this.#builds.add(p)
    void p.finally(() => this.#builds.delete(p))
  }

  /** Token → alias, so that a known token is not hashed again on every request. */
  readonly #aliases = new Map<string, string>()

  #identity(token: string): string {
    const known = this.#aliases.get(token)
    if (known !== undefined) return known
    const identity = this.#o.writer.identityFor(token)
    this.#aliases.set(token, identity.alias)
    if (!this.#tokens.includes(token)) {
      this.#tokens.push(token)
      this.#redactions = this.#tokens
        .map((t) => [t, `<${this.#o.writer.identityFor(t).alias}>`] as const)
        .sort((a, b) => b[0].length - a[0].length)
    }
    return identity.alias
  }

  async #body(wire: Buffer, headers: HeaderPair[]): Promise<Body> {
    const encoding = headerValue(headers, 'content-encoding') ?? null
    const contentType = headerValue(headers, 'content-type')
    const length = Number(headerValue(headers, 'content-length') ?? NaN)
    // mockttp drops a body over its limit (the client still gets all of it): its declared length says how big it was.
    const realSize = Number.isFinite(length) && length > this.#o.maxBody && wire.length < length ? length : undefined
    const decoded = await decodeBody(wire, encoding)
    if (decoded.decodeError) this.#o.warn(decoded.decodeError)
    return classifyBody(decoded.bytes, contentType, { maxBody: this.#o.maxBody, ...(realSize ? { realSize } : {}) })
  }

  async #build(
    seq: number,
    req: AbortedRequest | CompletedRequest,
    requestWire: Buffer,
    res: CompletedResponse | null,
    error: ExchangeError | null,
    durationMs: number,
  ): Promise<void> {
    try {
      const reqHeaders = wireHeaders(req.rawHeaders)
      const found = findToken(reqHeaders)
      const request: RecordedRequest = {
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        headers: reqHeaders,
        body: await this.#body(requestWire, reqHeaders),
        auth: found ? { via: found.via, identity: this.#identity(found.token) } : null,
      }
      let response: RecordedResponse | null = null
      if (res) {
        const resHeaders = wireHeaders(res.rawHeaders)
        for (const [n, v] of resHeaders) {
          if (n.toLowerCase() !== 'set-cookie') continue
          // A token the server hands out is an identity too (and must be redacted like the others).
          const token = cookieValue(v.split(';')[0] ?? '', SESSION_COOKIE)
          if (token && token !== 'deleted') this.#identity(token)
        }
        response = {
          status: res.statusCode,
          statusText: res.statusMessage ?? '',
          headers: resHeaders,
          body: await this.#body(res.body.buffer, resHeaders),
          contentEncoding: headerValue(resHeaders, 'content-encoding') ?? null,
        }
      }
      let exchange: Exchange = {
        seq,
        id: req.id,
        startedAt: new Date(req.timingEvents.startTime).toISOString(),
        durationMs: Math.max(0, Math.round(durationMs * 10) / 10),
        request,
        response,
        error,
      }
      if (this.#o.redact) exchange = redactExchange(exchange, this.#redactions)
      this.#o.writer.append(exchange)
      this.#recorded++
      if (error) this.#failed++
      this.#o.onExchange?.(exchange, consoleLine(exchange, this.#tokens))
    } catch (e) {
      this.#failed++
      this.#o.warn(`exchange #${seq} (${req.method} ${req.url}) could not be recorded: ${(e as Error).message}`)
    }
  }

  /** Waits until every exchange that has its response is written. */
  async drain(): Promise<void> {
    while (this.#builds.size > 0) await Promise.allSettled([...this.#builds])
  }

  /** Records what still waits for a response as aborted (the proxy is stopping), then drains. */
  async abandon(reason: string): Promise<void> {
    for (const [id, entry] of this.#pending) {
      const req = entry.request
      if (!req || entry.verdict === undefined) continue
      this.#pending.delete(id)
      const seq = entry.seq ?? this.#o.writer.nextSeq()
      const error: ExchangeError = { code: 'CLIENT_ABORTED', message: reason }
      this.#track(this.#build(seq, req, req.body.buffer, null, error, performance.now() - req.timingEvents.startTimestamp))
    }
    this.sweep()
    if (this.#sweepTimer) clearTimeout(this.#sweepTimer)
    if (this.#watchdog) clearInterval(this.#watchdog)
    this.#pending.clear()
    await this.drain()
  }
}
