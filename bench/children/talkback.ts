/**
 * talkback 4 (the replay tool users would pick instead): in `record` mode it proxies to `host` and writes a tape
 * per new request; in playback (`record: DISABLED`) it answers from the tapes in `path`, 404 for the rest.
 */
import type { AddressInfo } from 'node:net'
import talkbackModule from 'talkback'
import { childConfig, fail, ready } from './protocol.js'

// talkback's types describe `exports.default`, but the package sets `module.exports` to the function itself.
const talkback = talkbackModule as unknown as typeof talkbackModule.default
const config = childConfig<{ host: string; path: string; record: boolean }>()
try {
  const server = talkback({
    host: config.host,
    path: config.path,
    port: 0,
    record: config.record ? talkback.Options.RecordMode.NEW : talkback.Options.RecordMode.DISABLED,
    fallbackMode: talkback.Options.FallbackMode.NOT_FOUND,
    silent: true,
    summary: false,
  })
  const http = await server.start()
  if (!http.listening) await new Promise((r) => http.once('listening', r))
  const port = (http.address() as AddressInfo).port
  ready({ url: `http://127.0.0.1:${port}` }, { stop: async () => (await new Promise((r) => server.close(() => r(null))), {}) })
} catch (e) {
  fail(e)
}
