/**
 * mockttp → exchanges, each journaled before its client is answered.
 *
 * Every request meets `route` as it starts (the proxy's rule matcher calls it): the filter judges it, its body is
 * tapped and its seq reserved. An answered exchange is built and journaled in `beforeResponse`, which mockttp awaits
 * before it sends the response on: a client never receives a response that is not in the journal, so a recorder
 * killed at any moment has lost only exchanges nobody was answered for. The `response` and `abort` events, which
 * come after, record what that hook never sees: mockttp's own 502 for an upstream that failed, a client that left,
 * a timeout, responses streamed past the hook.
 *
 * A journal that cannot be written (a full disk) stops recording, not the proxy: the exchanges after it are still
 * answered, and their screen lines say that they were not recorded.
 */
import type { AbortedRequest, CompletedRequest, CompletedResponse, Headers, OngoingRequest, requestSteps } from 'mockttp'
import { cookieValue, findToken, SESSION_COOKIE } from '../model/auth.js'
import { ReltapeError } from '../model/errors.js'
import type { Body, Exchange, ExchangeError, HeaderPair, RecordedRequest, RecordedResponse } from '../model/session.js'
import { exchangeLine } from '../store/journal.js'
import type { SessionWriter } from '../store/store.js'
import { headerValue } from '../model/headers.js'
import { classifyBody, decodeBody } from '../store/body-decode.js'
import { BodyTap, type WireBody } from './body-tap.js'
import { consoleLine, unrecordedLine } from './console-line.js'
import { passthroughErrorCode, systemReason, upstreamError } from './errors.js'
import type { FilterInput, TrafficFilter } from '../store/traffic-filter.js'
import { redactExchange, Secrets } from '../store/redact.js'

export type CaptureOptions = {
  writer: SessionWriter
  filter: TrafficFilter
  /** Bodies larger than this are stored cut, with `truncated: true`. */
  maxBody: number
  /** Replace each token with `<identity-N>` in what is stored. */
  redact: boolean
  /** Reverse mode: the upstream origin every request goes to (named in transport failures). */
  upstream?: string | null
  /** Told about each exchange with its screen line; `recorded` is false once recording has stopped (a full disk). */
  onExchange?: (exchange: Exchange, line: string, recorded: boolean) => void
  /** Told about problems that do not stop the proxy. */
  warn: (message: string) => void
  /** How long the upstream may take to answer before the exchange is a TIMEOUT (0: no limit). */
  upstreamTimeoutMs?: number
  /** Closes the client's connection of a timed-out request; true when it could. */
  closeClient?: (remotePort: number | undefined) => boolean
}

export type CaptureStats = {
  recorded: number
  skipped: number
  failed: number
  inFlight: number
  identities: number
  /** Exchanges answered after recording stopped, so not recorded. */
  notRecorded: number
  /** Why recording stopped (RECORDING_STOPPED's message), or null while it goes on. */
  recordingStopped: string | null
}

/** What capture reads of a request, whether mockttp's ongoing request or a completed one. */
type RequestHead = Pick<CompletedRequest, 'id' | 'method' | 'url' | 'httpVersion' | 'rawHeaders' | 'timingEvents' | 'remotePort'>

type Pending = {
  req: RequestHead
  /** The request body as far as it is known now. */
  body: () => WireBody
  verdict: 'record' | 'response'
  seq?: number
}

/** A response as capture stores it: status, headers as on the wire, and its wire body. */
type Answer = { status: number; statusText: string; rawHeaders: ReadonlyArray<[string, string]>; body: WireBody }

/** Content-Encodings mockttp can undo: it decodes a held request's body before `beforeResponse`, and fails on others. */
const DECODABLE = /^\s*(identity|gzip|x-gzip|deflate|x-deflate|br|zstd|base64)?\s*$/i

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

function filterInput(req: Pick<RequestHead, 'method' | 'url' | 'rawHeaders'> & { path: string }): FilterInput {
  const q = req.path.indexOf('?')
  const headers = req.rawHeaders
  return {
    method: req.method,
    host: hostOf(req.url),
    path: q < 0 ? req.path : req.path.slice(0, q),
    requestContentType: headerValue(headers, 'content-type'),
    accept: headerValue(headers, 'accept'),
    preflight: req.method === 'OPTIONS' && headerValue(headers, 'access-control-request-method') !== undefined,
  }
}

function declaredLength(headers: ReadonlyArray<[string, string]>): number | undefined {
  const length = Number(headerValue(headers, 'content-length') ?? NaN)
  return Number.isFinite(length) ? length : undefined
}

/** Raw headers as an object that keeps each name's case and first place (repeated names gather under the first). */
function headersAsSent(raw: ReadonlyArray<[string, string]>): Headers {
  const out: Record<string, string | string[]> = {}
  const names = new Map<string, string>()
  for (const [name, value] of raw) {
    const lower = name.toLowerCase()
    const key = names.get(lower)
    if (key === undefined) {
      names.set(lower, name)
      out[name] = value
    } else {
      const prev = out[key]!
      out[key] = Array.isArray(prev) ? [...prev, value] : [prev, value]
    }
  }
  return out as Headers
}

/** A body from a mockttp event: mockttp drops one over its limit, and its declared length says how big it was. */
function eventBody(bytes: Buffer, headers: ReadonlyArray<[string, string]>, maxBody: number): WireBody {
  const length = declaredLength(headers)
  return length !== undefined && length > maxBody && bytes.length < length ? { bytes, realSize: length } : { bytes }
}

export class Capture {
  readonly #o: CaptureOptions
  readonly #pending = new Map<string, Pending>()
  readonly #builds = new Set<Promise<void>>()
  /** Ids given up on for the upstream timeout: their abort is a TIMEOUT. */
  readonly #timedOut = new Set<string>()
  readonly #upstreamHost: string | null
  #watchdog: NodeJS.Timeout | null = null
  readonly #secrets = new Secrets()
  /** A token was learned after exchanges had been journaled: they may hold it (see redactJournal). */
  #learnedLate = false
  #recorded = 0
  #skipped = 0
  #failed = 0
  #notRecorded = 0
  #stopped: ReltapeError<'RECORDING_STOPPED'> | null = null

  constructor(options: CaptureOptions) {
    this.#o = options
    this.#upstreamHost = options.upstream ? hostOf(options.upstream) : null
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
      if (this.#timedOut.has(id) || now - entry.req.timingEvents.startTimestamp < limit) continue
      this.#timedOut.add(id)
      if (!this.#o.closeClient!(entry.req.remotePort)) this.#timedOut.delete(id)
    }
  }

  stats(): CaptureStats {
    return {
      recorded: this.#recorded,
      skipped: this.#skipped,
      failed: this.#failed,
      inFlight: this.waiting + this.#builds.size,
      identities: this.#o.writer.identities.length,
      notRecorded: this.#notRecorded,
      recordingStopped: this.#stopped?.message ?? null,
    }
  }

  /** Why recording stopped (a journal that could not be written), or null. */
  get recordingError(): ReltapeError<'RECORDING_STOPPED'> | null {
    return this.#stopped
  }

  /** Requests started and not yet answered. */
  get waiting(): number {
    return this.#pending.size
  }

  /**
   * A request as it starts, before its body: judged, its body tapped, its seq reserved. True when its response is
   * to be held for `beforeResponse`; false for a request that is skipped, that asks for an event stream (which would
   * never reach the client if it were held until it ends), or whose body mockttp could not decode.
   */
  route = (req: OngoingRequest): boolean => {
    const verdict = this.#o.filter.judge(filterInput(req))
    if (verdict === 'skip') {
      this.#skipped++
      return false
    }
    const tap = new BodyTap(req, this.#o.maxBody)
    const declared = declaredLength(req.rawHeaders)
    this.#pending.set(req.id, { req, body: () => tap.body(declared), verdict, ...(verdict === 'record' ? { seq: this.#o.writer.nextSeq() } : {}) })
    return !/\btext\/event-stream\b/i.test(headerValue(req.rawHeaders, 'accept') ?? '') && DECODABLE.test(headerValue(req.rawHeaders, 'content-encoding') ?? '')
  }

  /**
   * The upstream's whole response to a routed request, before the client gets it: journaled, then let go. Its
   * headers go back as they came: mockttp would otherwise send on the lower-cased copy it gave the hook.
   */
  beforeResponse = async (res: requestSteps.PassThroughResponse): Promise<{ headers: Headers }> => {
    const headers = headersAsSent(res.rawHeaders)
    const entry = this.#pending.get(res.id)
    if (!entry) return { headers }
    this.#pending.delete(res.id)
    const answer: Answer = { status: res.statusCode, statusText: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body: { bytes: res.body.buffer } }
    const build = this.#answered(entry, answer, performance.now() - entry.req.timingEvents.startTimestamp)
    if (build) await build
    return { headers }
  }

  /** A response the hook did not see (mockttp's own 502, a streamed response): recorded now. */
  onResponse = (res: CompletedResponse): void => {
    const entry = this.#pending.get(res.id)
    if (!entry) return
    this.#pending.delete(res.id)
    const t = res.timingEvents
    const end = t.responseSentTimestamp ?? t.abortedTimestamp ?? t.headersSentTimestamp ?? t.startTimestamp
    const durationMs = end - entry.req.timingEvents.startTimestamp
    const nodeCode = passthroughErrorCode(res.tags)
    if (nodeCode) {
      // mockttp's own 502: the upstream never answered. A real upstream 502 carries no such tag.
      if (entry.verdict === 'response' && this.#o.filter.judgeResponse(headerValue(res.rawHeaders, 'content-type')) === 'skip') {
        this.#skipped++
        return
      }
      const error = upstreamError(nodeCode, this.#hostFor(entry.req), res.body.buffer.toString('utf8'))
      this.#track(this.#build(entry.seq ?? this.#o.writer.nextSeq(), entry, null, error, durationMs))
      return
    }
    const answer: Answer = { status: res.statusCode, statusText: res.statusMessage ?? '', rawHeaders: res.rawHeaders, body: eventBody(res.body.buffer, res.rawHeaders, this.#o.maxBody) }
    this.#answered(entry, answer, durationMs)
  }

  onAbort = (req: AbortedRequest): void => {
    const entry = this.#pending.get(req.id)
    if (!entry) return
    this.#pending.delete(req.id)
    if (entry.verdict === 'response') {
      // Only its response's type could have qualified it, and there is none: not API traffic as far as anyone can tell.
      this.#skipped++
      return
    }
    // A client that leaves makes mockttp cut the upstream request too, which tags it `passthrough-error:ECONNRESET`:
    // only once the response has begun can such a tag mean that the upstream broke off.
    const t = req.timingEvents
    const responseBegun = t.headersSentTimestamp !== undefined && (t.abortedTimestamp === undefined || t.headersSentTimestamp < t.abortedTimestamp)
    const nodeCode = responseBegun ? passthroughErrorCode(req.tags) : null
    const timedOut = this.#timedOut.delete(req.id)
    const error: ExchangeError = timedOut
      ? { code: 'TIMEOUT', message: `the upstream did not answer within ${((this.#o.upstreamTimeoutMs ?? 0) / 1000).toFixed(1)} s: ${this.#hostFor(req)}; reltape closed the client's connection` }
      : nodeCode
        ? upstreamError(nodeCode, this.#hostFor(req), req.error?.message)
        : { code: 'CLIENT_ABORTED', message: `the client closed the connection before the exchange finished${req.error?.message ? ` (${req.error.message})` : ''}` }
    const end = t.abortedTimestamp ?? t.startTimestamp
    this.#track(this.#build(entry.seq ?? this.#o.writer.nextSeq(), entry, null, error, end - t.startTimestamp))
  }

  /** The host a transport failure names: the upstream's in reverse mode (the URL is the recorder's own address). */
  #hostFor(req: Pick<RequestHead, 'url'>): string {
    return this.#upstreamHost ?? hostOf(req.url)
  }

  /** An upstream answer: recorded, unless only its content type could qualify it and does not. */
  #answered(entry: Pending, answer: Answer, durationMs: number): Promise<void> | null {
    if (entry.verdict === 'response') {
      if (this.#o.filter.judgeResponse(headerValue(answer.rawHeaders, 'content-type')) === 'skip') {
        this.#skipped++
        return null
      }
      entry.seq = this.#o.writer.nextSeq()
    }
    const build = this.#build(entry.seq!, entry, answer, null, durationMs)
    this.#track(build)
    return build
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
    let alias = 'identity-?'
    // Once recording has stopped nothing is journaled, identities included: the token is still masked on screen.
    if (!this.#stopped) {
      try {
        alias = this.#o.writer.identityFor(token).alias
      } catch (e) {
        this.#stop(e)
      }
    }
    this.#aliases.set(token, alias)
    if (this.#secrets.add(token, `<${alias}>`) && this.#recorded > 0) this.#learnedLate = true
    return alias
  }

  async #body(wire: WireBody, headers: HeaderPair[]): Promise<Body> {
    const contentType = headerValue(headers, 'content-type')
    // Cut on the way (over the limit): the start of an encoded body cannot be decoded on its own; it is kept as it came.
    if (wire.realSize !== undefined) return classifyBody(wire.bytes, contentType, { maxBody: this.#o.maxBody, realSize: wire.realSize })
    const decoded = await decodeBody(wire.bytes, headerValue(headers, 'content-encoding') ?? null)
    if (decoded.decodeError) this.#o.warn(decoded.decodeError)
    return classifyBody(decoded.bytes, contentType, { maxBody: this.#o.maxBody })
  }

  async #build(seq: number, entry: Pending, res: Answer | null, error: ExchangeError | null, durationMs: number): Promise<void> {
    const req = entry.req
    try {
      const reqHeaders = wireHeaders(req.rawHeaders)
      const found = findToken(reqHeaders)
      const request: RecordedRequest = {
        method: req.method,
        url: req.url,
        httpVersion: req.httpVersion,
        headers: reqHeaders,
        body: await this.#body(entry.body(), reqHeaders),
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
          status: res.status,
          statusText: res.statusText,
          headers: resHeaders,
          body: await this.#body(res.body, resHeaders),
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
      if (this.#o.redact) exchange = redactExchange(exchange, this.#secrets)
      const recorded = this.#journal(exchange)
      if (recorded) {
        this.#recorded++
        if (error) this.#failed++
      } else this.#notRecorded++
      // The screen line (masked) is made only for someone who shows it: an embedder may not.
      const show = this.#o.onExchange
      if (show) {
        const line = consoleLine(exchange, (text) => this.#secrets.mask(text))
        show(exchange, recorded ? line : unrecordedLine(line, this.#stopped?.code ?? 'INTERNAL'), recorded)
      }
    } catch (e) {
      this.#failed++
      this.#o.warn(`exchange #${seq} (${req.method} ${this.#secrets.mask(req.url)}) could not be recorded: ${(e as Error).message}`)
    }
  }

  /** Writes the exchange's journal line now (before its response is let go); false when it could not be. */
  #journal(exchange: Exchange): boolean {
    if (this.#stopped) return false
    try {
      this.#o.writer.append(exchange)
      this.#o.writer.flush()
      return true
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === undefined) throw e
      this.#stop(e)
      return false
    }
  }

  /** A write to the journal failed (a full disk): recording stops, once, saying why; the proxy goes on. */
  #stop(e: unknown): void {
    if (this.#stopped) return
    this.#stopped = new ReltapeError('RECORDING_STOPPED', { journal: this.#o.writer.paths.journal, reason: systemReason(e), recorded: this.#recorded }, { cause: e })
    this.#o.warn(`${this.#stopped.message} [${this.#stopped.code}]`)
  }

  /**
   * `--redact`: exchanges journaled before a token was known to be one (the login answer that hands it out) may hold
   * it. They are redacted in the journal now, before it reaches the session file; until then the journal is a
   * private file (0600), like the session. Returns the lines rewritten.
   */
  async redactJournal(): Promise<number> {
    if (!this.#o.redact || !this.#learnedLate) return 0
    const secrets = this.#secrets
    return this.#o.writer.rewriteJournal((line) => {
      if (!line.startsWith('{"t":"exchange"') || !secrets.mayAppearIn(line)) return null
      const { exchange } = JSON.parse(line) as { exchange: Exchange }
      return exchangeLine(JSON.stringify(redactExchange(exchange, secrets)))
    })
  }

  /** Waits until every exchange that has its response is written. */
  async drain(): Promise<void> {
    while (this.#builds.size > 0) await Promise.allSettled([...this.#builds])
  }

  /** Records what still waits for a response as aborted (the proxy is stopping), then drains. */
  async abandon(reason: string): Promise<void> {
    for (const [id, entry] of this.#pending) {
      this.#pending.delete(id)
      const error: ExchangeError = { code: 'CLIENT_ABORTED', message: reason }
      this.#track(this.#build(entry.seq ?? this.#o.writer.nextSeq(), entry, null, error, performance.now() - entry.req.timingEvents.startTimestamp))
    }
    if (this.#watchdog) clearInterval(this.#watchdog)
    await this.drain()
  }
}
