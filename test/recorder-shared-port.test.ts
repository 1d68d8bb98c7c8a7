/**
 * Linux gives a connecting socket any source port not used towards the same destination, so on loopback a client's
 * connection to the recorder and the recorder's own connection to the upstream can have the same port number. mockttp
 * took such a client for the recorder's own connection come back to it (a proxy loop) and answered it 500 "Passthrough
 * loop detected" without passing the request on, nor journaling it first; a burst through the recorder lost requests
 * so (test/recorder-crash.test.ts, about one run in thirty). Only a connection to the recorder's own port can come back
 * to it: such a loop is still refused.
 */
import http from 'node:http'
import net, { type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpUpstream, startRecorderEnv, tempDir, type RecorderEnv, type Upstream } from './helpers/recorder-env.js'

const BODY = '{"OK":true,"Error":null,"Result":{"Up":true}}'
/** Client connections kept open, each with the recorder's connection to the upstream behind it. */
const KEPT = 16

let env: RecorderEnv
let up: Upstream
/** The source ports of the recorder's connections to the upstream that are open now, as the upstream sees them. */
const recorderPorts = new Set<number>()

beforeAll(async () => {
  up = await startHttpUpstream((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(BODY))
  up.server.keepAliveTimeout = 120_000
  up.server.on('connection', (s: Socket) => {
    const port = s.remotePort!
    recorderPorts.add(port)
    s.once('close', () => recorderPorts.delete(port))
  })
  env = await startRecorderEnv({ session: 'shared-port' }, await tempDir('shared-port-home'))
})
afterAll(async () => {
  await env?.close()
  await up?.close()
})

type Answer = { status: number; body: string }

/** A request in proxy form (absolute URL) to the recorder, on `socket` if given, else on `agent`'s connections. */
function viaRecorder(url: string, o: { agent?: http.Agent; socket?: Socket }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: env.rec.port,
        method: 'POST',
        path: url,
        headers: { host: new URL(url).host, 'content-type': 'application/json' },
        ...(o.socket ? { createConnection: () => o.socket! } : { agent: o.agent }),
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => (body += c))
        res.on('end', () => resolve({ status: res.statusCode!, body }))
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end('{}')
  })
}

function connectToRecorder(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(env.rec.port, '127.0.0.1', () => resolve(s))
    s.once('error', reject)
  })
}

describe('a client whose port number the recorder also uses towards the upstream', () => {
  it.skipIf(process.platform !== 'linux')('has its request passed on and answered by the upstream', async () => {
    const kept = new http.Agent({ keepAlive: true, maxSockets: KEPT })
    const api = `${up.url}/public/api/v1/shared-port`
    try {
      const keepOpen = async () => {
        const answers = await Promise.all(Array.from({ length: KEPT }, () => viaRecorder(api, { agent: kept })))
        expect(answers.map((a) => a.status)).toEqual(Array(KEPT).fill(200))
      }
      await keepOpen()
      // New connections to the recorder until the kernel gives one a port of the recorder's upstream connections.
      let shared: Socket | null = null
      const started = Date.now()
      for (let attempt = 1; attempt <= 60_000 && Date.now() - started < 40_000; attempt++) {
        const s = await connectToRecorder()
        if (recorderPorts.has(s.localPort!)) {
          shared = s
          break
        }
        s.destroy()
        // Idle connections are closed after a while (mockttp's and the upstream's keep-alive): used again, they stay.
        if (attempt % 500 === 0) await keepOpen()
      }
      if (!shared) throw new Error('no connection to the recorder got the port of one of its upstream connections: cannot test here')
      const answer = await viaRecorder(api, { socket: shared })
      expect(answer).toEqual({ status: 200, body: BODY })
      shared.destroy()
    } finally {
      kept.destroy()
    }
  }, 60_000)

  it('but a request the recorder would send to itself is still refused as a loop', async () => {
    const agent = new http.Agent({ keepAlive: false })
    const answer = await viaRecorder(`http://127.0.0.1:${env.rec.port}/public/api/v1/loop`, { agent })
    expect(answer.status).toBe(500)
    expect(answer.body).toContain('loop')
  })
})
