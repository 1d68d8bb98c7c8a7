/**
 * Calls to the live API on a session's behalf: `reltape verify` sends recorded requests again, replay's
 * `record-missing` forwards the requests no recording answers. One undici Agent per run, trusting the system's CAs
 * plus the given ones (as `reltape record` does upstream), or nothing at all with `insecure`. A request that got no
 * answer (refused, TLS, reset, timeout) is a result with an `error`, never an exception: it is a fact about the
 * upstream, as a recorded transport failure is.
 */
import { STATUS_CODES } from 'node:http'
import { rootCertificates } from 'node:tls'
import { Agent, request, type Dispatcher } from 'undici'
import type { ExchangeError, HeaderPair } from '../model/session.js'
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from './upstream-options.js'

/** What an upstream is trusted with. */
export type UpstreamTrust = {
  /** PEM texts of extra CAs, trusted besides the system's. */
  caPems: readonly string[]
  /** No certificate is verified. */
  insecure: boolean
}

export type OutgoingRequest = {
  method: string
  /** Absolute URL on the upstream. */
  url: string
  /** Sent in this order and case; hop-by-hop headers, Host and Content-Length are left to the client. */
  headers: readonly HeaderPair[]
  body: Buffer
}

/** The upstream's answer, as on the wire: headers in order and case, the body still encoded. */
export type UpstreamReply = { status: number; statusText: string; headers: HeaderPair[]; body: Buffer }

export type UpstreamResult =
  | { reply: UpstreamReply; error: null; durationMs: number }
  | { reply: null; error: ExchangeError; durationMs: number }

/** Not sent on: hop-by-hop headers, and what undici sets itself (Host for the upstream, the body's length). */
const NOT_SENT = new Set(['host', 'content-length', 'connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect'])

/**
 * The transport failure codes a session stores (as the recorder names them) for an error undici or the socket gave.
 */
export function transportError(e: unknown, host: string): ExchangeError {
  const err = e as Error & { code?: string; cause?: { code?: string; message?: string } }
  const code = err.code ?? err.cause?.code ?? ''
  const reason = `${code ? `${code}: ` : ''}${err.cause?.message ?? err.message}`
  if (/^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|EADDRNOTAVAIL|UND_ERR_CONNECT_TIMEOUT)$/.test(code))
    return { code: 'UPSTREAM_UNREACHABLE', message: `cannot reach ${host}: ${reason}` }
  if (/^UND_ERR_(HEADERS|BODY)_TIMEOUT$/.test(code)) return { code: 'TIMEOUT', message: `${host} did not answer in time: ${reason}` }
  if (/CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME/i.test(code)) return { code: 'UPSTREAM_TLS', message: `TLS with ${host} failed: ${reason}` }
  if (/^(ECONNRESET|EPIPE|UND_ERR_SOCKET|UND_ERR_CLOSED)$/.test(code)) return { code: 'UPSTREAM_RESET', message: `${host} broke off the connection: ${reason}` }
  return { code: 'PROXY_ERROR', message: `${host}: ${reason}` }
}

function pairs(flat: readonly string[]): HeaderPair[] {
  const out: HeaderPair[] = []
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!])
  return out
}

export class UpstreamClient {
  readonly #agent: Agent

  constructor(trust: UpstreamTrust, timeoutMs = DEFAULT_UPSTREAM_TIMEOUT_MS) {
    const connect = trust.insecure ? { rejectUnauthorized: false } : trust.caPems.length ? { ca: [...rootCertificates, ...trust.caPems] } : {}
    this.#agent = new Agent({ connect, headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  }

  /** Sends one request and reads the whole answer; a transport failure is the result's `error`. */
  async send(req: OutgoingRequest): Promise<UpstreamResult> {
    const started = performance.now()
    const elapsed = () => Math.round((performance.now() - started) * 10) / 10
    const flat: string[] = []
    for (const [name, value] of req.headers) if (!name.startsWith(':') && !NOT_SENT.has(name.toLowerCase())) flat.push(name, value)
    try {
      const res = await request(req.url, {
        dispatcher: this.#agent,
        method: req.method as Dispatcher.HttpMethod,
        headers: flat,
        body: req.body.length || !/^(GET|HEAD)$/i.test(req.method) ? req.body : null,
        // Headers as the server sent them, in order and case: the session keeps them so.
        responseHeaders: 'raw',
      })
      const chunks: Buffer[] = []
      for await (const chunk of res.body) chunks.push(chunk as Buffer)
      const headers = pairs(res.headers as unknown as string[])
      return { reply: { status: res.statusCode, statusText: STATUS_CODES[res.statusCode] ?? '', headers, body: Buffer.concat(chunks) }, error: null, durationMs: elapsed() }
    } catch (e) {
      return { reply: null, error: transportError(e, new URL(req.url).host), durationMs: elapsed() }
    }
  }

  close(): Promise<void> {
    return this.#agent.close()
  }
}
