/**
 * The recorder: a mockttp proxy whose every API exchange (or failure) is appended to a session at once.
 * `startRecorder(options)` is what `reltape record` and `reltape demo` run, and what tests use.
 */
import { existsSync, rmSync } from 'node:fs'
import type { Mockttp, TlsHandshakeFailure, ClientError } from 'mockttp'
import { ReltapeError } from '../model/errors.js'
import { loadOrCreateCA, type CertificateAuthority } from '../store/ca.js'
import { SessionStore, type SessionWriter } from '../store/store.js'
import { Capture, type CaptureStats } from './capture.js'
import { TrafficFilter } from '../store/traffic-filter.js'
import { systemReason } from './errors.js'
import { startProxy, trackClientSockets, type ClientCloser } from './proxy.js'
import { reuseTrustContexts } from './tls-trust.js'
import { trustedByProcess } from './process-trust.js'
import { resolveRecorderOptions, type RecorderOptions, type ResolvedRecorderOptions } from './options.js'

export { PortInUseError } from './proxy.js'
export {
  DEFAULT_HOST,
  DEFAULT_MAX_BODY,
  DEFAULT_PORT,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  RecorderOptionError,
  resolveRecorderOptions,
  type RecorderOptions,
  type ResolvedRecorderOptions,
} from './options.js'
export { BROWSER_HOUSEKEEPING } from '../store/traffic-filter.js'
export { outcomeOf, formatSize } from './console-line.js'

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
  /** Why recording stopped while the proxy went on (RECORDING_STOPPED: a journal that could not be written), or null. */
  recordingError(): ReltapeError | null
  /** Resolves once nothing is in flight (or after `timeoutMs`, default 5 s): every answered exchange is journaled. */
  settle(timeoutMs?: number): Promise<void>
  /**
   * Finishes in-flight exchanges (up to `graceMs`, default 5 s), writes the session, releases the lock. A session
   * file that cannot be written is SESSION_WRITE_FAILED, with the lock released and the journal kept.
   */
  stop(graceMs?: number): Promise<RecorderSummary>
}

/** A session directory that cannot be written: says which and what to do. */
export class SessionDirError extends ReltapeError<'SESSION_DIR_UNWRITABLE'> {
  constructor(
    readonly dir: string,
    cause: Error,
  ) {
    super('SESSION_DIR_UNWRITABLE', { dir, reason: (cause as NodeJS.ErrnoException).code ?? cause.message }, { cause })
    this.name = 'SessionDirError'
  }
}

async function openSession(store: SessionStore, o: ResolvedRecorderOptions): Promise<SessionWriter> {
  try {
    return await store.open(o.session, { recording: { tool: o.tool, mode: o.mode, upstream: o.upstream }, warn: o.warn })
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM' || code === 'ENOTDIR' || code === 'ENOSPC' || code === 'EDQUOT') throw new SessionDirError(store.dir, e as Error)
    throw e
  }
}

export async function startRecorder(options: RecorderOptions = {}): Promise<Recorder> {
  // Every option is checked (and the upstream CA files read) before the CA, the session or the port is touched.
  const o = await resolveRecorderOptions(options)
  const { log, upstream, host, maxBody } = o
  const ca = await loadOrCreateCA(o.home)
  const upstreamCAs = [...o.upstreamCAs]
  if (o.trustOwnCA) upstreamCAs.push(ca.cert)
  const filter = new TrafficFilter({ all: o.all, include: [...o.include], exclude: [...o.exclude] })
  const store = new SessionStore(o.dir)
  const name = o.session
  const existed = ['file', 'journal'].some((k) => existsSync(store.paths(name)[k as 'file' | 'journal']))
  const writer = await openSession(store, o)
  const exchangesAtStart = writer.exchangeCount
  // CAs the process already trusts (NODE_EXTRA_CA_CERTS) need no per-connection trust list at all.
  const extraCAs = trustedByProcess(upstreamCAs) ? [] : upstreamCAs
  const untrust = extraCAs.length && !o.insecureUpstream && o.reuseTlsContexts ? reuseTrustContexts(extraCAs) : () => {}
  let closeClient: ClientCloser = () => false
  const capture = new Capture({
    writer,
    filter,
    maxBody,
    redact: o.redact,
    upstream,
    warn: o.warn,
    upstreamTimeoutMs: o.upstreamTimeoutMs,
    closeClient: (port) => closeClient(port),
    ...(o.onExchange ? { onExchange: o.onExchange } : {}),
  })
  let server: Mockttp
  try {
    server = await startProxy({
      mode: o.mode,
      upstream,
      port: o.port,
      host,
      ca,
      upstreamCAs: extraCAs,
      insecureUpstream: o.insecureUpstream,
      maxBody,
      exactHost: o.bindHostExactly,
      route: capture.route,
      beforeResponse: capture.beforeResponse,
    })
  } catch (e) {
    untrust()
    await capture.abandon('the proxy did not start')
    await writer.close()
    // Nothing was recorded: a session made just now is not left behind as an empty file.
    if (!existed) for (const f of [writer.paths.file, writer.paths.journal]) rmSync(f, { force: true })
    throw e
  }
  closeClient = trackClientSockets(server)
  // Requests reach capture through the proxy's `route` (as they start), not through the `request` event.
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
      const { file, journal } = writer.paths
      try {
        await capture.redactJournal()
      } catch (e) {
        // Folding now would put a token in the session file: the journal stays, and the lock is let go.
        writer.lock.release()
        throw new ReltapeError('SESSION_WRITE_FAILED', { file, journal, reason: `tokens learned late could not be redacted from the journal first (${systemReason(e)}); it still holds them` }, { cause: e })
      }
      try {
        await writer.close()
      } catch (e) {
        if (e instanceof ReltapeError || (e as NodeJS.ErrnoException).code === undefined) throw e
        throw new ReltapeError('SESSION_WRITE_FAILED', { file, journal, reason: systemReason(e) }, { cause: e })
      }
      const s = capture.stats()
      return { ...s, sessionName: name, sessionFile: writer.paths.file, exchanges: writer.exchangeCount }
    })())

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    host,
    mode: o.mode,
    upstream,
    sessionName: name,
    sessionFile: writer.paths.file,
    ca,
    filter: filter.describe(),
    exchangesAtStart,
    stats: () => capture.stats(),
    recordingError: () => capture.recordingError,
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

