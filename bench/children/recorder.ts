/**
 * `reltape record` in a child: startRecorder writing a real session, as the CLI runs it. Reports its event-loop
 * delay, memory and capture stats on request, and how long stopping (writing the session) takes.
 */
import { startRecorder } from '../../recorder/index.js'
import { eventLoop, resetEventLoop } from './eld.js'
import { childConfig, fail, ready } from './protocol.js'

/**
 * `reuseTlsContexts: true` as the CLI sets it (an embedder opts in; reltape's own process does).
 * `caFromEnv`: the parent trusts the upstream's CA through NODE_EXTRA_CA_CERTS, so the recorder is told not to pass it per request. */
const config = childConfig<{ home: string; dir: string; session: string; caFromEnv?: boolean }>()
try {
  const t0 = performance.now()
  const recorder = await startRecorder({ home: config.home, dir: config.dir, session: config.session, port: 0, log: () => {}, reuseTlsContexts: true, bindHostExactly: true, ...(config.caFromEnv ? { trustOwnCA: false } : {}) })
  // startRecorder resolves once the proxy listens: opening (continuing) the session is part of it.
  const startMs = performance.now() - t0
  ready(
    { url: recorder.url, sessionFile: recorder.sessionFile, startMs, exchangesAtStart: recorder.exchangesAtStart },
    {
      stats: () => ({ ...eventLoop(), rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, capture: recorder.stats() }),
      resetEventLoop: () => (resetEventLoop(), {}),
      stop: async () => {
        const before = eventLoop()
        const t0 = performance.now()
        const summary = await recorder.stop()
        return { stopMs: performance.now() - t0, summary, ...before, rss: process.memoryUsage().rss }
      },
    },
  )
} catch (e) {
  fail(e)
}
