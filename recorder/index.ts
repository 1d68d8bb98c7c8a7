/**
 * The recorder: a mockttp proxy whose every API exchange (or failure) is appended to a session at once.
 * `startRecorder(options)` is what `reltape record` and `reltape demo` run, and what tests use.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import type { Mockttp, TlsHandshakeFailure, ClientError } from 'mockttp'
import type { Exchange } from '../model/session.js'
import { loadOrCreateCA, type CertificateAuthority } from '../store/ca.js'
import { defaultSessionName, sessionsDir } from '../store/paths.js'
import { SessionStore, type SessionWriter } from '../store/store.js'
import { Capture, type CaptureStats } from './capture.js'
import { TrafficFilter } from './filter.js'
import { startProxy, trackClientSockets } from './proxy.js'
import { reuseTrustContexts } from './tls-trust.js'
import { trustedByProcess } from './process-trust.js'

export { PortInUseError } from './proxy.js'
export { BROWSER_HOUSEKEEPING } from './filter.js'
export { outcomeOf, formatSize } from './console-line.js'

export const DEFAULT_MAX_BODY = 50 * 1024 * 1024
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 300_000

export type RecorderOptions = {
  /** Session name; default from the date and time. An existing session is continued. */
  session?: string
  /** Sessions directory; default `$RELTAPE_DIR`, else `./sessions`. */
  dir?: string
  /** reltape's home (the CA); default `$RELTAPE_HOME`, else `~/.reltape`. */
  home?: string
  /** Default 8000; 0 picks a free port. */
  port?: number
  /** Default `127.0.0.1`. */
  host?: string
  /** Reverse mode: the upstream origin every request goes to. Default: forward proxy. */
  upstream?: string | null
  /** PEM files of extra CAs to trust upstream. */
  upstreamCaFiles?: string[]
  /** Trust reltape's own CA upstream too (dev servers and the sandbox use certificates it issued). Default true. */
  trustOwnCA?: boolean
  /**
   * Opt-in, and process-wide: while the recorder runs, `tls.createSecureContext` is wrapped so that the upstream
   * trust list (the system's CAs plus the extra ones) becomes one TLS context reused for every upstream
   * connection, instead of a certificate store built per connection (several times the throughput through an
   * extra upstream CA). reltape's CLI turns it on; code that imports reltape gets no patched built-in unless it
   * asks. Starting Node with `NODE_EXTRA_CA_CERTS` naming the extra CAs gives the same speed with no wrapping.
   * @default false
   */
  reuseTlsContexts?: boolean
  /** Turn upstream TLS verification off. Default false. */
  insecureUpstream?: boolean
  include?: string[]
  exclude?: string[]
  /** Record everything, not only API traffic. Default false. */
  all?: boolean
  /** Replace tokens with `<identity-N>` in the stored exchanges. Default false. */
  redact?: boolean
  /** Bodies over this many bytes are stored cut (the client still gets them whole). Default 50 MB. */
  maxBody?: number
  /** The upstream's time to answer before the exchange is recorded as TIMEOUT and the client's connection closed. Default 300 s; 0: none. */
  upstreamTimeoutMs?: number
  /** The tool string stored in the session. Default `reltape`. */
  tool?: string
  /** Each recorded exchange, with its screen line. */
  onExchange?: (exchange: Exchange, line: string) => void
  /** Notices for the screen (a client that does not trust the CA, garbage on the port, …). */
  log?: (message: string) => void
  /** Problems that do not stop recording. Default: `log`. */
  warn?: (message: string) => void
}

export type RecorderSummary = CaptureStats & { sessionName: string; sessionFile: string; exchanges: number }

export type Recorder = {
  /** `http://HOST:PORT`: the proxy address for clients (forward), or the API base (reverse). */
  url: string
  port: number
  host: string
  mode: 'forward' | 'reverse'
  upstream: string | null
  sessionName: string
  sessionFile: string
  ca: CertificateAuthority
  /** The filter in force, in words. */
  filter: string
  /** Exchanges the session held when recording started (it is continued). */
  exchangesAtStart: number
  stats(): CaptureStats
  /** Resolves once nothing is in flight (or after `timeoutMs`, default 5 s): every answered exchange is journaled. */
  settle(timeoutMs?: number): Promise<void>
  /** Finishes in-flight exchanges (up to `graceMs`, default 5 s), writes the session, releases the lock. */
  stop(graceMs?: number): Promise<RecorderSummary>
}

/** A session directory that cannot be written: says which and what to do. */
export class SessionDirError extends Error {
  readonly code = 'SESSION_DIR_UNWRITABLE'
  constructor(
    readonly dir: string,
    cause: Error,
  ) {
    super(`cannot write sessions in ${dir}: ${(cause as NodeJS.ErrnoException).code ?? cause.message}; choose another directory with --dir or RELTAPE_DIR`)
    this.name = 'SessionDirError'
  }
}

/** The upstream given to reverse mode: an origin, no path. */
export function parseUpstream(upstream: string): string {
  let u: URL
  try {
    u = new URL(upstream)
  } catch {
    throw new Error(`--upstream ${JSON.stringify(upstream)} is not a URL; give one such as https://api.example.com`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`--upstream must be an http or https URL, not ${u.protocol}`)
  if (u.pathname !== '/' || u.search) throw new Error(`--upstream takes an origin without a path (${u.origin}); the client's path is kept`)
  return u.origin
}

async function openSession(store: SessionStore, name: string, options: RecorderOptions, upstream: string | null, warn: (m: string) => void): Promise<SessionWriter> {
  try {
    return await store.open(name, { recording: { tool: options.tool ?? 'reltape', mode: upstream ? 'reverse' : 'forward', upstream }, warn })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code === 'ENOTDIR') throw new SessionDirError(store.dir, e as Error)
    throw e
  }
}

export async function startRecorder(options: RecorderOptions = {}): Promise<Recorder> {
  const log = options.log ?? ((m: string) => console.error(m))
  const warn = options.warn ?? log
  const upstream = options.upstream ? parseUpstream(options.upstream) : null
  const host = options.host ?? '127.0.0.1'
  const maxBody = options.maxBody ?? DEFAULT_MAX_BODY
  const ca = await loadOrCreateCA(options.home)
  const upstreamCAs = (options.upstreamCaFiles ?? []).map((f) => {
    try {
      return readFileSync(f, 'utf8')
    } catch (e) {
      throw new Error(`--upstream-ca ${f}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
    }
  })
  if (options.trustOwnCA ?? true) upstreamCAs.push(ca.cert)
  const filter = new TrafficFilter({ all: options.all ?? false, include: options.include ?? [], exclude: options.exclude ?? [] })
  const store = new SessionStore(options.dir ?? sessionsDir())
  const name = options.session ?? defaultSessionName()
  const existed = ['file', 'journal'].some((k) => existsSync(store.paths(name)[k as 'file' | 'journal']))
  const writer = await openSession(store, name, options, upstream, warn)
  const exchangesAtStart = writer.exchangeCount
  // CAs the process already trusts (NODE_EXTRA_CA_CERTS) need no per-connection trust list at all.
  const extraCAs = trustedByProcess(upstreamCAs) ? [] : upstreamCAs
  const untrust = extraCAs.length && !options.insecureUpstream && options.reuseTlsContexts ? reuseTrustContexts(extraCAs) : () => {}
  let server: Mockttp
  try {
    server = await startProxy({ mode: upstream ? 'reverse' : 'forward', upstream, port: options.port ?? 8000, host, ca, upstreamCAs: extraCAs, insecureUpstream: options.insecureUpstream ?? false, maxBody })
  } catch (e) {
    untrust()
    await writer.close()
    // Nothing was recorded: a session made just now is not left behind as an empty file.
    if (!existed) for (const f of [writer.paths.file, writer.paths.journal]) rmSync(f, { force: true })
    throw e
  }
  const capture = new Capture({
    writer,
    filter,
    maxBody,
    redact: options.redact ?? false,
    warn,
    upstreamTimeoutMs: options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS,
    closeClient: trackClientSockets(server),
    ...(options.onExchange ? { onExchange: options.onExchange } : {}),
  })
  await server.on('request', capture.onRequest)
  await server.on('response', capture.onResponse)
  await server.on('abort', capture.onAbort)
  const toldHosts = new Set<string>()
  await server.on('tls-client-error', (failure: TlsHandshakeFailure) => {
    const who = failure.tlsMetadata.sniHostname ?? failure.destination?.hostname ?? failure.remoteIpAddress ?? 'a client'
    if (toldHosts.has(who)) return
    toldHosts.add(who)
    const rejected = failure.failureCause === 'cert-rejected' || failure.failureCause === 'closed' || failure.failureCause === 'reset'
    log(
      rejected
        ? `TLS: a client refused reltape's certificate for ${who} (${failure.failureCause}): it does not trust reltape's CA. ` +
            `Fix: trust ${ca.certPath} (curl --cacert ${ca.certPath}; NODE_EXTRA_CA_CERTS=${ca.certPath}; Chromium --ignore-certificate-errors-spki-list=${ca.spkiFingerprint}; see \`reltape ca\`)`
        : `TLS: handshake with a client for ${who} failed (${failure.failureCause})`,
    )
  })
  let clientErrors = 0
  await server.on('client-error', (e: ClientError) => {
    // Garbage on the port, a malformed request: mockttp answers it; say so, a few times, and keep going.
    if (++clientErrors <= 5 || clientErrors % 100 === 0)
      log(`client error #${clientErrors}: ${e.errorCode ?? 'bad request'} from ${e.request.remoteIpAddress ?? '?'} (not recorded)`)
  })

  const port = server.port
  let stopped: Promise<RecorderSummary> | null = null
  const stop = (graceMs = 5000): Promise<RecorderSummary> =>
    (stopped ??= (async () => {
      const until = Date.now() + graceMs
      while (capture.waiting > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
      await server.stop()
      // Events of the last exchanges come a tick after the server has answered them.
      await new Promise((r) => setImmediate(r))
      await capture.abandon('the recorder stopped before the upstream answered')
      untrust()
      await writer.close()
      const s = capture.stats()
      return { ...s, sessionName: name, sessionFile: writer.paths.file, exchanges: writer.exchangeCount }
    })())

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    host,
    mode: upstream ? 'reverse' : 'forward',
    upstream,
    sessionName: name,
    sessionFile: writer.paths.file,
    ca,
    filter: filter.describe(),
    exchangesAtStart,
    stats: () => capture.stats(),
    async settle(timeoutMs = 5000) {
      const until = Date.now() + timeoutMs
      // The events of an answered exchange come a tick or two after the client has its response.
      await new Promise((r) => setTimeout(r, 5))
      while (capture.stats().inFlight > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
      await capture.drain()
    },
    stop,
  }
}

