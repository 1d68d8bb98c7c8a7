/**
 * `reltape record` in a child: startRecorder writing a real session, as the CLI runs it. Reports its event-loop
 * delay, memory and capture stats on request, and how long stopping (writing the session) takes.
 */
import { startRecorder } from '../../recorder/index.js'
import { eventLoop, resetEventLoop } from './eld.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ home: string; dir: string; session: string }>()
try {
  const recorder = await startRecorder({ home: config.home, dir: config.dir, session: config.session, port: 0, log: () => {} })
  ready(
    { url: recorder.url, sessionFile: recorder.sessionFile },
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
