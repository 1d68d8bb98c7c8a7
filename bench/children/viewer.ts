/** `reltape view` in a child: startViewer on a sessions directory (it warms its cache in the background). */
import { startViewer } from '../../viewer/server.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ dir: string; uiDir?: string }>()
try {
  const viewer = await startViewer({ dir: config.dir, port: 0, ...(config.uiDir ? { uiDir: config.uiDir } : {}) })
  ready({ url: viewer.url }, { rss: () => ({ rss: process.memoryUsage().rss }) })
} catch (e) {
  fail(e)
}
