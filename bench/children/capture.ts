/**
 * The capture pipeline alone, in a child: mockttp-shaped `request` and `response` events (the example envelope,
 * gzip-encoded, as the upstream sends it) fed to reltape's Capture with a real session writer, 16 per turn of the
 * event loop, as a proxy under load delivers them. No network and no mockttp: what capture itself costs.
 * `run` with `capture: false` makes the same events and drops them: the harness's own cost.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { CompletedRequest, CompletedResponse } from 'mockttp'
import { Capture } from '../../recorder/capture.js'
import { TrafficFilter } from '../../store/traffic-filter.js'
import { SessionStore } from '../../store/store.js'
import { API_PATH, sendSupportRequest, sendSupportResponse, TOKEN } from '../lib/envelope.js'
import { fail, ready } from './protocol.js'

const PER_TURN = 16
const example = sendSupportResponse()
const responseWire = gzipSync(example.json)
const responseHeaders: [string, string][] = [...example.headers.filter(([name]) => !/^date$/i.test(name)), ['Content-Encoding', 'gzip']]
const url = `https://localhost:8443${API_PATH}`

/** The two events mockttp emits for one exchange, with the fields Capture reads. */
function events(n: number): { request: CompletedRequest; response: CompletedResponse } {
  const id = randomUUID()
  const body = Buffer.from(sendSupportRequest(n))
  const now = performance.now()
  const timingEvents = { startTime: Date.now(), startTimestamp: now, bodyReceivedTimestamp: now, headersSentTimestamp: now + 1, responseSentTimestamp: now + 2 }
  const rawHeaders: [string, string][] = [['Host', 'localhost:8443'], ['Content-Type', 'application/json'], ['Cookie', `client-session=${TOKEN}`], ['Origin', 'http://dev.iqstore.ru'], ['Content-Length', String(body.length)]]
  const request = { id, method: 'POST', url, path: API_PATH, protocol: 'https', httpVersion: '1.1', remotePort: 50000, rawHeaders, headers: {}, body: { buffer: body }, timingEvents, tags: [] }
  const response = { id, statusCode: 200, statusMessage: 'OK', rawHeaders: responseHeaders, headers: {}, body: { buffer: responseWire }, timingEvents, tags: [] }
  return { request: request as unknown as CompletedRequest, response: response as unknown as CompletedResponse }
}

try {
  const dir = mkdtempSync(join(tmpdir(), 'reltape-bench-capture-'))
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  const writer = await new SessionStore(dir).open('capture', { recording: { tool: 'reltape-bench', mode: 'forward', upstream: null }, warn: () => {} })
  const capture = new Capture({ writer, filter: new TrafficFilter(), maxBody: 50 * 1024 * 1024, redact: false, warn: (m) => process.stderr.write(`${m}\n`) })
  let sent = 0
  ready({}, {
    run: async (m) => {
      const count = Number(m.count)
      const feed = m.capture !== false
      const before = process.cpuUsage()
      for (let i = 0; i < count; i += PER_TURN) {
        for (let k = 0; k < PER_TURN; k++) {
          const { request, response } = events(sent++)
          if (feed) {
            capture.onRequest(request)
            capture.onResponse(response)
          }
        }
        await new Promise((resolve) => setImmediate(resolve))
      }
      await capture.drain()
      const used = process.cpuUsage(before)
      return { usPerExchange: (used.user + used.system) / count, recorded: capture.stats().recorded }
    },
  })
} catch (e) {
  fail(e)
}
