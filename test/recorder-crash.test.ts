/**
 * `kill -9` during a burst: every exchange whose response the client had received is in the session
 * when it is opened again (the journal is written as each exchange finishes, not at the end).
 */
import type { ServerResponse } from 'node:http'
import { readFile, rm } from 'node:fs/promises'
import { ProxyAgent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { SessionStore } from '../store/store.js'
import { startHttpUpstream, tempDir, until, withBody, type Upstream } from './helpers/recorder-env.js'
import { spawnRecorder, type RecorderProcess } from './helpers/recorder-cli.js'

const TOTAL = 200
const ANSWERED = 150
const CONCURRENCY = 16

let rec: RecorderProcess | undefined
let up: Upstream | undefined
let agent: ProxyAgent | undefined
const dirs: string[] = []

afterEach(async () => {
  if (rec && rec.child.exitCode === null && rec.child.signalCode === null) rec.child.kill('SIGKILL')
  await agent?.close().catch(() => undefined)
  await up?.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

describe('a recorder killed with SIGKILL mid-burst', () => {
  it(`keeps every answered exchange of a burst of ${TOTAL} requests`, async () => {
    const home = await tempDir('crash-home')
    const dir = await tempDir('crash-dir')
    dirs.push(home, dir)
    const held: ServerResponse[] = []
    // The upstream answers the first ANSWERED requests and holds the rest, so the kill lands with requests in flight.
    up = await startHttpUpstream((req, res) => {
      withBody(req, (b) => {
        const n = (JSON.parse(b.toString()) as { N: number }).N
        if (n < ANSWERED) res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ OK: true, Error: null, Result: { N: n } }))
        else held.push(res)
      })
    })
    rec = await spawnRecorder(['--port', '0', '--session', 'crash', '--dir', dir], { RELTAPE_HOME: home })
    agent = new ProxyAgent({ uri: rec.url })
    const answered = new Set<number>()
    /** Requests that got no 200 before the kill: what to show if the burst never reaches its answered part. */
    const failures: string[] = []
    let killed = false
    let next = 0
    const worker = async () => {
      while (next < TOTAL) {
        const n = next++
        try {
          const res = await request(`${up!.url}/public/api/v1/burst`, {
            method: 'POST',
            dispatcher: agent,
            headers: { 'content-type': 'application/json', Authorization: 'Client crash-token-0123456789' },
            body: JSON.stringify({ N: n }),
          })
          const text = await res.body.text()
          let body: { Result?: { N: number } } | null = null
          try {
            body = JSON.parse(text) as { Result?: { N: number } }
          } catch {
            // not the upstream's answer: reported below as it came
          }
          if (res.statusCode === 200 && body?.Result?.N === n) answered.add(n)
          else failures.push(`#${n}: ${res.statusCode} ${text.slice(0, 300)}`)
        } catch (e) {
          // the recorder was killed under this request
          if (!killed) failures.push(`#${n}: ${(e as Error).message}`)
        }
      }
    }
    const workers = Array.from({ length: CONCURRENCY }, worker)
    await until(() => answered.size === ANSWERED && held.length === CONCURRENCY, 'the answered part of the burst', 20_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${answered.size} of ${ANSWERED} answered, ${held.length} of ${CONCURRENCY} held; failures: ${failures.slice(0, 5).join('; ') || 'none'}`)
    })
    killed = true
    rec.child.kill('SIGKILL')
    await rec.exited
    await Promise.all(workers)
    expect(answered.size).toBe(ANSWERED)

    // The lock of the dead recorder is stale; opening the session folds its journal in.
    const warnings: string[] = []
    const writer = await new SessionStore(dir).open('crash', { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: (m) => warnings.push(m) })
    const { exchanges } = await writer.read()
    const recordedNs = new Set(
      exchanges.map((e) => (e.request.body.kind === 'json' ? (e.request.body.json as { N: number }).N : -1)),
    )
    const missing = [...answered].filter((n) => !recordedNs.has(n))
    expect(missing).toEqual([])
    expect(new Set(exchanges.map((e) => e.seq)).size).toBe(exchanges.length)
    expect(warnings.some((w) => w.includes('stale lock'))).toBe(true)
    await writer.close()
    expect(JSON.parse(await readFile(writer.paths.file, 'utf8')).exchanges.length).toBeGreaterThanOrEqual(ANSWERED)
    for (const r of held) r.destroy()
  }, 60_000)
})
