/**
 * Fault: 200 clients, each on a connection of its own (its own CONNECT tunnel through the proxy), send at once, and
 * the upstream answers none until all 200 are waiting on it. Every client gets its own answer (none crossed with
 * another's), and the session holds all 200, each request with the answer it got.
 */
import { ProxyAgent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpsUpstream, startRecorderEnv, tempDir, until, withBody, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'

const CLIENTS = 200

let home: string
let env: RecorderEnv
let upstream: Upstream
/** Requests the upstream holds, and the most it held at once. */
const held: (() => void)[] = []
let mostHeld = 0

beforeAll(async () => {
  home = await tempDir('fault-200-home')
  upstream = await startHttpsUpstream(home, (req, res) =>
    withBody(req, (body) => {
      const { N } = JSON.parse(body.toString()) as { N: number }
      held.push(() => {
        res.writeHead(200, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ OK: true, Error: null, Result: { N }, Rels: {} }))
      })
      mostHeld = Math.max(mostHeld, held.length)
      // All of them are waiting: answer every one. (Bounded: a client that never arrives fails the test below.)
      if (held.length === CLIENTS) for (const answer of held.splice(0)) answer()
    }),
  )
  env = await startRecorderEnv({}, home)
})
afterAll(async () => {
  for (const answer of held.splice(0)) answer()
  await env?.close()
  await upstream?.close()
})

describe('200 concurrent proxy connections', () => {
  it('answers each client with its own answer and records all 200, each request with its answer', async () => {
    const agents = Array.from({ length: CLIENTS }, () => new ProxyAgent({ uri: env.rec.url, requestTls: { ca: env.ca }, connections: 1 }))
    try {
      const released = setTimeout(() => {
        // Not all arrived in time: let the ones that did go, so that the test fails on what it checks, not hangs.
        for (const answer of held.splice(0)) answer()
      }, 30_000)
      const answers = await Promise.all(
        agents.map(async (dispatcher, N) => {
          const res = await request(`${upstream.url}/public/api/v1/chats/history`, {
            method: 'POST',
            dispatcher,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ N }),
          })
          return { N, status: res.statusCode, body: JSON.parse(await res.body.text()) as { Result: { N: number } } }
        }),
      )
      clearTimeout(released)
      expect(mostHeld).toBe(CLIENTS)
      for (const a of answers) {
        expect(a.status).toBe(200)
        expect(a.body.Result.N).toBe(a.N)
      }

      await until(async () => (await env.session()).exchanges.length === CLIENTS, `all ${CLIENTS} exchanges in the session`, 20_000)
      const exchanges = (await env.session()).exchanges
      expect(new Set(exchanges.map((e) => e.seq)).size).toBe(CLIENTS)
      const pairs = exchanges.map((e) => {
        const req = e.request.body.kind === 'json' ? (e.request.body.json as { N: number }).N : -1
        const res = e.response?.body.kind === 'json' ? (e.response.body.json as { Result: { N: number } }).Result.N : -2
        return [req, res]
      })
      for (const [req, res] of pairs) expect(res).toBe(req)
      expect(pairs.map(([n]) => n).sort((a, b) => a! - b!)).toEqual(Array.from({ length: CLIENTS }, (_, i) => i))
    } finally {
      await Promise.all(agents.map((a) => a.close()))
    }
    // Longer than the 30 s after which the upstream lets go of whatever arrived: a shortfall fails on what it checks.
  }, 60_000)
})
