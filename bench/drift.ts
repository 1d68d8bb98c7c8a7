/**
 * Drift: `diffSessions` of two 10,000-exchange sessions (one with a changed client name every 100th exchange (seq 101, 201, …)), and
 * replay hits with `mode: 'record-missing'` against `mode: 'replay'` (the same session, the same requests, all hits).
 * `verify`'s overhead per call: the committed sample session (recorded from the sandbox, its tokens valid there)
 * verified against a sandbox, against undici sending the same recorded requests to the same sandbox, interleaved.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseFieldPath } from '../model/match.js'
import { startReplay } from '../replay/start-replay.js'
import { startSandbox } from '../sandbox/index.js'
import { SessionStore } from '../store/store.js'
import { bodyBytes } from '../store/body-bytes.js'
import { resolveVerifyOptions } from '../verify/options.js'
import { planVerify } from '../verify/plan.js'
import { runVerify } from '../verify/run.js'
import { diffSessions } from '../store/session-diff.js'
import { writeSampleSession } from './lib/sample-sessions.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario } from './lib/scenario.js'
import { percentile } from './lib/stats.js'

const NAME = 'drift'

async function timeDiff(dir: string, reps: number): Promise<number[]> {
  const store = new SessionStore(dir)
  const out: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const d = await diffSessions(await store.reader('a'), await store.reader('b'), [parseFieldPath('LocalId')])
    out.push(performance.now() - t0)
    if (d.equal) throw new Error('the modified session compares equal')
  }
  return out
}

/** Per-request time (ms, median over rounds) of `n` sequential recorded calls against a replay in `mode`. */
async function hitTimes(dir: string, mode: 'replay' | 'record-missing', upstream: string | null, home: string, n: number, rounds: number): Promise<number[]> {
  const replay = await startReplay({ session: 'a', dir, home, mode, ...(upstream ? { upstream } : {}) })
  const sample = await new SessionStore(dir).reader('a')
  const calls = []
  for (let seq = 1; seq <= 10; seq++) {
    const x = await sample.exchange(seq)
    // JSON and bodiless calls only: they are sent again byte for byte, so every one is a hit.
    if (x.request.body.kind !== 'json' && x.request.body.kind !== 'empty') continue
    const u = new URL(x.request.url)
    const headers = Object.fromEntries(x.request.headers.filter(([k]) => !/^(host|connection|content-length)$/i.test(k)))
    const body = x.request.body.kind === 'json' ? JSON.stringify(x.request.body.json) : undefined
    calls.push({ path: u.pathname + u.search, method: x.request.method, headers, body })
  }
  const out: number[] = []
  try {
    for (let r = 0; r < rounds; r++) {
      replay.reset()
      const t0 = performance.now()
      for (let i = 0; i < n; i++) {
        const c = calls[i % calls.length]!
        const res = await fetch(replay.url + c.path, { method: c.method, headers: c.headers, ...(c.body !== undefined && c.method !== 'GET' ? { body: c.body } : {}) })
        await res.arrayBuffer()
      }
      out.push((performance.now() - t0) / n)
    }
    if (replay.recorded().length) throw new Error(`record-missing recorded ${replay.recorded().length} call(s): not all hits`)
  } finally {
    await replay.close()
  }
  return out
}

/**
 * Verify's cost over plain sending: the sample session's 10 calls verified against a sandbox, and the same recorded
 * requests sent with undici to the same sandbox, one at a time, rounds interleaved. Both compare nothing but the
 * time each spends; verify also builds exchanges and diffs them, which is what it is measured for.
 */
async function verifyOverhead(home: string, rounds: number): Promise<{ overheadMs: number; verifyMs: number; directMs: number; spread: number; rounds: number }> {
  const sample = fileURLToPath(new URL('../sessions/', import.meta.url))
  const sandbox = await startSandbox({ home })
  try {
    const reader = await new SessionStore(sample).reader('sample-support-chat')
    const recorded = await reader.exchangesOf(reader.rows.map((r) => r.summary.seq))
    const calls = recorded.length
    // Each round opens its own connection, as each verify run does (a new client, a new TLS handshake).
    const direct = async () => {
      const agent = new Agent({ connect: { rejectUnauthorized: false } })
      const t0 = performance.now()
      for (const e of recorded) {
        const url = new URL(e.request.url)
        const headers = e.request.headers.filter(([n]) => !/^(host|content-length|connection)$/i.test(n))
        const body = e.request.body.kind === 'empty' ? undefined : Buffer.from(bodyBytes(e.request.body))
        const res = await request(`${sandbox.url}${url.pathname}${url.search}`, { method: e.request.method as 'POST', headers: headers.flat(), body, dispatcher: agent })
        await res.body.arrayBuffer()
      }
      const perCall = (performance.now() - t0) / calls
      await agent.close()
      return perCall
    }
    const viaVerify = async () => {
      const options = await resolveVerifyOptions({ session: 'sample-support-chat', dir: sample, upstream: sandbox.url, home, insecureUpstream: true, trustOwnCA: false })
      const plan = await planVerify(options)
      const t0 = performance.now()
      await runVerify(plan)
      return (performance.now() - t0) / calls
    }
    await direct()
    await viaVerify()
    const v: number[] = []
    const d: number[] = []
    for (let i = 0; i < rounds; i++) {
      d.push(await direct())
      v.push(await viaVerify())
    }
    const verifyMs = percentile(v, 50)
    const directMs = percentile(d, 50)
    const diffs = v.map((x, i) => x - d[i]!)
    const overheadMs = percentile(diffs, 50)
    return { overheadMs, verifyMs, directMs, spread: (Math.max(...v) - Math.min(...v)) / verifyMs, rounds }
  } finally {
    await sandbox.close()
  }
}

export const drift: Scenario = {
  name: 'drift',
  describe: 'diff of two 10,000-exchange sessions; replay hits in record-missing vs replay mode',
  async run({ quick, log }) {
    const dir = await mkdtemp(join(tmpdir(), 'reltape-bench-drift-'))
    const home = await mkdtemp(join(tmpdir(), 'reltape-bench-drift-home-'))
    const rows: ResultRow[] = []
    try {
      await writeSampleSession(dir, 'a', 10_000)
      const lines = readFileSync(join(dir, 'a.json'), 'utf8').split('\n')
      let changed = 0
      for (let i = 0; i < lines.length; i++)
        if (/^ {4}\{"seq":\d*01,/.test(lines[i]!) && lines[i]!.includes('"Name":"Ivan Petrov"')) {
          lines[i] = lines[i]!.replaceAll('"Name":"Ivan Petrov"', '"Name":"Ivan P."')
          changed++
        }
      writeFileSync(join(dir, 'b.json'), lines.join('\n').replace(/"name": "a"/, '"name": "b"'))
      log(`diff: 10,000 exchanges each, ${changed} exchange(s) changed`)
      const d = await timeDiff(dir, quick ? 2 : 5)
      const med = percentile(d, 50)
      rows.push({ scenario: NAME, metric: 'diff 10,000 vs 10,000 exchanges', value: Math.round(med), unit: 'ms', baseline: null, ratio: null, spread: (Math.max(...d) - Math.min(...d)) / med, target: '≤ 2000 ms', met: med <= 2000 })

      const sandbox = await startSandbox({ home })
      try {
        const n = quick ? 300 : 2000
        const rounds = quick ? 2 : 5
        const plain = await hitTimes(dir, 'replay', null, home, n, rounds)
        const filling = await hitTimes(dir, 'record-missing', sandbox.url, home, n, rounds)
        const p = percentile(plain, 50)
        const f = percentile(filling, 50)
        rows.push({ scenario: NAME, metric: 'replay hit, mode replay', value: Number((p * 1000).toFixed(0)), unit: 'µs/req', baseline: null, ratio: null, spread: (Math.max(...plain) - Math.min(...plain)) / p })
        rows.push({
          scenario: NAME,
          metric: 'replay hit, mode record-missing',
          value: Number((f * 1000).toFixed(0)),
          unit: 'µs/req',
          baseline: 'mode replay',
          ratio: Number((f / p).toFixed(2)),
          spread: (Math.max(...filling) - Math.min(...filling)) / f,
          target: 'no measurable difference (within spread)',
          met: Math.abs(f - p) / p <= Math.max(0.1, (Math.max(...plain) - Math.min(...plain)) / p),
        })
      } finally {
        await sandbox.close()
      }
      const over = await verifyOverhead(home, quick ? 3 : 10)
      rows.push({
        scenario: NAME,
        metric: 'verify overhead per call vs undici (sample session, 10 calls, one at a time)',
        value: Number(over.overheadMs.toFixed(3)),
        unit: 'ms',
        baseline: 'undici direct',
        ratio: Number((over.verifyMs / over.directMs).toFixed(2)),
        spread: over.spread,
        target: '≤ 1 ms',
        met: over.overheadMs <= 1,
        note: `per call: verify ${over.verifyMs.toFixed(2)} ms, undici ${over.directMs.toFixed(2)} ms (medians of ${over.rounds} rounds)`,
      })
    } finally {
      await rm(dir, { recursive: true, force: true })
      await rm(home, { recursive: true, force: true })
    }
    return rows
  },
}
