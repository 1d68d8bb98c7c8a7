/** `reltape view` in a child: startViewer on a sessions directory (it warms its cache in the background). */
import { startViewer } from '../../viewer/server.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ dir: string; uiDir?: string }>()
try {
  const viewer = await startViewer({ dir: config.dir, port: 0, ...(config.uiDir ? { uiDir: config.uiDir } : {}) })
  // `url` is the link to open (with `?token=…` when the API asks for one); `token` goes in an Authorization header.
  ready({ url: viewer.url, token: (viewer as { token?: string | null }).token ?? null }, { rss: () => ({ rss: process.memoryUsage().rss }) })
} catch (e) {
  fail(e)
}
