/** `reltape replay` in a child: startReplay on a session file (or a session name in `dir`); reports how long loading took. */
import { startReplay } from '../../replay/start-replay.js'
import { eventLoop } from './eld.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ session: string; dir?: string }>()
try {
  const t0 = performance.now()
  const replay = await startReplay({ session: config.session, port: 0, ...(config.dir ? { dir: config.dir } : {}) })
  const startMs = performance.now() - t0
  ready(
    { url: replay.url, startMs, keys: replay.keys, exchanges: replay.exchanges, rss: process.memoryUsage().rss },
    { stats: () => ({ misses: replay.misses.length, ...eventLoop(), rss: process.memoryUsage().rss }) },
  )
} catch (e) {
  fail(e)
}
