/**
 * mockttp as reltape's recorder configures it (forward proxy, HTTPS interception with reltape's CA), passing
 * everything through with no capture and no event listeners: the floor the recorder's design can reach.
 * The upstream's CA is trusted through NODE_EXTRA_CA_CERTS, set by the parent (the fast way: see DESIGN.md).
 */
import { loadOrCreateCA } from '../../store/ca.js'
import { startProxy } from '../../recorder/proxy.js'
import { eventLoop, resetEventLoop } from './eld.js'
import { childConfig, fail, ready } from './protocol.js'

/** `listeners`: events to subscribe no-op listeners to (`request,response,abort`): what mockttp spends on events alone. */
const config = childConfig<{ home: string; listeners?: string }>()
try {
  const ca = await loadOrCreateCA(config.home)
  const server = await startProxy({ mode: 'forward', upstream: null, port: 0, host: '127.0.0.1', ca, upstreamCAs: [], insecureUpstream: false, exactHost: true, maxBody: 50 * 1024 * 1024 })
  if (config.listeners) for (const ev of config.listeners.split(',')) await server.on(ev as 'request', () => {})
  ready(
    { url: `http://127.0.0.1:${server.port}` },
    {
      stats: () => ({ ...eventLoop(), rss: process.memoryUsage().rss }),
      resetEventLoop: () => (resetEventLoop(), {}),
      stop: async () => (await server.stop(), {}),
    },
  )
} catch (e) {
  fail(e)
}
