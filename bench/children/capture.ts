/**
 * The capture pipeline alone, in a child: mockttp-shaped requests (a stream carrying the body) and upstream
 * responses (the example envelope, gzip-encoded, as the upstream sends it) fed to reltape's Capture through the hooks
 * the proxy calls (`route` as a request starts, `beforeResponse` before its answer is released), with a real session
 * writer, 16 per turn of the event loop, as a proxy under load delivers them. No network and no mockttp: what capture
 * itself costs. `run` with `capture: false` makes the same requests and responses and drops them: the harness's own cost.
 */
import { randomUUID } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { once } from 'node:events'
import { PassThrough } from 'node:stream'
import type { OngoingRequest, requestSteps } from 'mockttp'
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

/** One exchange as the proxy hands it to Capture: the request (a stream of its body) and the upstream's response. */
function exchange(n: number): { request: OngoingRequest & PassThrough; body: Buffer; response: requestSteps.PassThroughResponse } {
  const id = randomUUID()
  const body = Buffer.from(sendSupportRequest(n))
  const now = performance.now()
  const timingEvents = { startTime: Date.now(), startTimestamp: now, bodyReceivedTimestamp: now, headersSentTimestamp: now + 1, responseSentTimestamp: now + 2 }
  const rawHeaders: [string, string][] = [['Host', 'localhost:8443'], ['Content-Type', 'application/json'], ['Cookie', `client-session=${TOKEN}`], ['Origin', 'http://dev.iqstore.ru'], ['Content-Length', String(body.length)]]
  const request = Object.assign(new PassThrough(), { id, method: 'POST', url, path: API_PATH, protocol: 'https', httpVersion: '1.1', remotePort: 50000, rawHeaders, headers: {}, timingEvents, tags: [] })
  const response = { id, statusCode: 200, statusMessage: 'OK', rawHeaders: responseHeaders, headers: {}, body: { buffer: responseWire }, timingEvents, tags: [] }
  return { request: request as unknown as OngoingRequest & PassThrough, body, response: response as unknown as requestSteps.PassThroughResponse }
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
        const turn = Array.from({ length: PER_TURN }, () => exchange(sent++))
        // Requests start, their bodies go by (to the upstream, in the proxy), then their answers come back.
        if (feed) for (const { request } of turn) capture.route(request)
        for (const { request, body } of turn) {
          request.resume()
          request.end(body)
        }
        await Promise.all(turn.map(({ request }) => once(request, 'end')))
        if (feed) await Promise.all(turn.map(({ response }) => capture.beforeResponse(response)))
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
