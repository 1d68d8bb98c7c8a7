/**
 * A tester's app hammers the API through the recorder from 16 clients at once when the recorder is killed with
 * SIGKILL: every response any client had received is in the session afterwards. The journal line of an exchange is
 * written before its response is released, so a killed recorder loses only exchanges nobody was answered for.
 * Two kinds of clients: keep-alive (one connection each, reused) and a connection per request.
 */
import { rm } from 'node:fs/promises'
import { ProxyAgent, request } from 'undici'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { SessionStore } from '../../store/store.js'
import { spawnRecorder, type RecorderProcess } from '../helpers/recorder-cli.js'
import { withBody, startHttpUpstream, tempDir, until, type Upstream } from '../helpers/recorder-env.js'

const CLIENTS = 16
/** The kill lands once this many responses have been received, in the middle of the burst. */
const KILL_AT = 240
const ROUNDS = 2

let rec: RecorderProcess | undefined
let up: Upstream | undefined
const agents: ProxyAgent[] = []
const dirs: string[] = []

afterEach(async () => {
  if (rec && rec.child.exitCode === null && rec.child.signalCode === null) rec.child.kill('SIGKILL')
  for (const a of agents.splice(0)) await a.close().catch(() => undefined)
  await up?.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

/** One burst against a fresh recorder, killed mid-burst; returns the answered request numbers missing from the session. */
async function burst(round: number, keepAlive: boolean): Promise<{ answered: number; missing: number[] }> {
  const home = await tempDir('kill9-home')
  const dir = await tempDir('kill9-dir')
  dirs.push(home, dir)
  rec = await spawnRecorder(['--port', '0', '--session', 'burst', '--dir', dir], { RELTAPE_HOME: home })
  const recorder = rec
  const answered = new Set<number>()
  let next = 0
  let killed = false
  const client = async () => {
    const agent = new ProxyAgent({ uri: recorder.url, connections: 1 })
    agents.push(agent)
    while (!killed) {
      const n = next++
      try {
        const res = await request(`${up!.url}/public/api/v1/burst`, {
          method: 'POST',
          dispatcher: agent,
          reset: !keepAlive,
          headers: { 'content-type': 'application/json', Authorization: 'Client burst-token-0123456789abcdef' },
          body: JSON.stringify({ Round: round, N: n }),
        })
        const body = (await res.body.json()) as { Result?: { N: number } }
        if (res.statusCode === 200 && body.Result?.N === n) answered.add(n)
        if (answered.size >= KILL_AT && !killed) {
          killed = true
          recorder.child.kill('SIGKILL')
        }
      } catch {
        // the recorder was killed under this request: it was never answered
      }
    }
  }
  const clients = Array.from({ length: CLIENTS }, client)
  await until(() => killed, 'the kill mid-burst', 30_000)
  await recorder.exited
  await Promise.all(clients)

  // The dead recorder's lock is stale: opening the session folds its journal in.
  const writer = await new SessionStore(dir).open('burst', { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: () => {} })
  const { exchanges } = await writer.read()
  await writer.close()
  const recorded = new Set(exchanges.map((e) => (e.request.body.kind === 'json' ? (e.request.body.json as { N: number }).N : -1)))
  expect(new Set(exchanges.map((e) => e.seq)).size).toBe(exchanges.length)
  return { answered: answered.size, missing: [...answered].filter((n) => !recorded.has(n)).sort((a, b) => a - b) }
}

describe('a recorder killed with SIGKILL in the middle of a burst of 16 clients', () => {
  beforeEach(async () => {
    // The upstream answers at once, so the kill lands among exchanges at every stage.
    up = await startHttpUpstream((req, res) => {
      withBody(req, (b) => {
        const { N } = JSON.parse(b.toString()) as { N: number }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ OK: true, Error: null, Result: { N } }))
      })
    })
  })

  for (const keepAlive of [true, false]) {
    it(`has journaled every response a ${keepAlive ? 'keep-alive client' : 'client with a connection per request'} received`, async () => {
      const missing: string[] = []
      for (let round = 1; round <= ROUNDS; round++) {
        const r = await burst(round, keepAlive)
        expect(r.answered).toBeGreaterThanOrEqual(KILL_AT)
        if (r.missing.length) missing.push(`round ${round}: ${r.missing.length} of ${r.answered} answered were not recorded (${r.missing.slice(0, 10).join(', ')})`)
      }
      expect(missing).toEqual([])
    }, 90_000)
  }
})
