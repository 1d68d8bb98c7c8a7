/**
 * Replay: `reltape replay` serving a 1,000-exchange session, against a bare fastify route returning the same
 * constant body (the floor) and talkback in playback, at concurrency 16 with autocannon in this process.
 * Each server runs in its own child, so its CPU per request is measured apart from the load generator's.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { pinApart } from './lib/affinity.js'
import { BenchChild, startNodeChild } from './lib/children.js'
import { cpuNs } from './lib/cpu.js'
import { API_PATH, sendSupportRequest, TOKEN } from './lib/envelope.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario, ScenarioContext } from './lib/scenario.js'
import { writeSendSupportSession } from './lib/session-fixture.js'
import { median, spread } from './lib/stats.js'
import { benchHome } from './lib/tls.js'

const SESSION_SIZE = 1000
const CONCURRENCY = 16
/** Not a target: the floor sending the recorded headers too, to tell HTTP work from replay's own. */
const FLOOR_HEADERS = 'fastify + recorded headers'

type Sample = { reqPerSec: number; p99: number; cpuMsPerReq: number; genCpuShare: number; failed: number }

/** The 1,000 distinct requests of the session; each connection cycles through them. */
function requests(): { method: string; path: string; body: string; headers: Record<string, string> }[] {
  const headers = { 'content-type': 'application/json', cookie: `client-session=${TOKEN}` }
  return Array.from({ length: SESSION_SIZE }, (_, n) => ({ method: 'POST', path: API_PATH, body: sendSupportRequest(n), headers }))
}

async function load(url: string, amount: number, connections: number) {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  const r = await autocannon({ url, connections, amount, timeout: 10, requests: requests() })
  const wallMs = performance.now() - t0
  const used = process.cpuUsage(cpu0)
  return { r, wallMs, genCpuShare: (used.user + used.system) / 1000 / wallMs }
}

export const replay: Scenario = {
  name: 'replay',
  describe: `reltape replay (${SESSION_SIZE}-exchange session) vs bare fastify vs talkback playback at c=${CONCURRENCY}`,
  async run(ctx) {
    const amount = ctx.quick ? 3000 : 20_000
    const reps = ctx.quick ? 2 : 5
    const env = await benchHome('replay')
    const children: BenchChild[] = []
    try {
      const sessionFile = await writeSendSupportSession(join(env.tmp, 'sessions'), 'bench-replay', SESSION_SIZE)
      const floor = await startNodeChild('fastify-floor', {})
      children.push(floor.child)

      // talkback records its tapes from the floor with the very requests the benchmark sends, then plays them back.
      const tapes = join(env.tmp, 'tapes')
      await mkdir(tapes)
      const recorder = await startNodeChild('talkback', { host: String(floor.ready.url), path: tapes, record: true })
      await load(String(recorder.ready.url), SESSION_SIZE, 1)
      await recorder.child.ask('stop')
      await recorder.child.kill()
      const talkback = await startNodeChild('talkback', { host: String(floor.ready.url), path: tapes, record: false })
      children.push(talkback.child)

      const rep = await startNodeChild('replay', { session: sessionFile })
      children.push(rep.child)
      const floorHeaders = await startNodeChild('fastify-floor', { recordedHeaders: true })
      children.push(floorHeaders.child)

      const targets = [
        { name: 'fastify bare', url: String(floor.ready.url), child: floor.child },
        { name: 'reltape replay', url: String(rep.ready.url), child: rep.child },
        { name: 'talkback', url: String(talkback.ready.url), child: talkback.child },
        { name: FLOOR_HEADERS, url: String(floorHeaders.ready.url), child: floorHeaders.child },
      ]
      const pinning = pinApart(targets.map((t) => t.child.pid as number))
      ctx.log(`  ${pinning.note}`)
      try {
        return await measure(targets, amount, reps, ctx, pinning.note, Number(rep.ready.startMs))
      } finally {
        pinning.restore()
      }
    } finally {
      for (const c of children) await c.kill()
      await env.cleanup()
    }
  },
}

/** Warm-up, then repetitions interleaved over the targets (A B C D A B C D …). */
async function measure(targets: { name: string; url: string; child: BenchChild }[], amount: number, reps: number, ctx: ScenarioContext, pinned: string, startMs: number): Promise<ResultRow[]> {
  for (const t of targets) {
    const w = await load(t.url, Math.min(amount, 3000), CONCURRENCY)
    if (w.r.non2xx || w.r.errors) throw new Error(`${t.name}: ${w.r.non2xx} non-2xx answers and ${w.r.errors} errors in the warm-up`)
  }
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]))
  for (let i = 0; i < reps; i++) {
    for (const t of targets) {
      const before = cpuNs(t.child.pid)
      // talkback answers ~10× slower: fewer requests keep its turn near the others' length.
      const { r, wallMs, genCpuShare } = await load(t.url, t.name === 'talkback' ? Math.ceil(amount / 4) : amount, CONCURRENCY)
      const cpuMs = (cpuNs(t.child.pid) - before) / 1e6
      const s: Sample = { reqPerSec: (r['2xx'] / wallMs) * 1000, p99: r.latency.p99, cpuMsPerReq: cpuMs / r['2xx'], genCpuShare, failed: r.non2xx + r.errors + r.timeouts }
      samples.get(t.name)?.push(s)
      ctx.log(`  rep ${i + 1}/${reps} ${t.name.padEnd(26)} ${s.reqPerSec.toFixed(0).padStart(6)} req/s  p99 ${s.p99} ms  server cpu ${s.cpuMsPerReq.toFixed(4)} ms/req  load generator ${(genCpuShare * 100).toFixed(0)}% of a core` + (s.failed ? `  ${s.failed} failed` : ''))
    }
  }
  return rowsFor(targets.map((t) => t.name), samples, startMs, pinned)
}

function rowsFor(names: string[], samples: Map<string, Sample[]>, startMs: number, pinned: string): ResultRow[] {
  const get = (name: string, key: keyof Sample) => (samples.get(name) ?? []).map((s) => s[key])
  const paired = (a: number[], b: number[]) => median(a.map((x, i) => x / (b[i] as number)))
  const base = { scenario: 'replay' }
  const rows: ResultRow[] = []
  for (const name of names) {
    const rps = get(name, 'reqPerSec')
    rows.push({ ...base, metric: `c=16 throughput, ${name}`, value: median(rps), unit: 'req/s', baseline: name === 'fastify bare' ? null : 'fastify bare', ratio: name === 'fastify bare' ? null : paired(rps, get('fastify bare', 'reqPerSec')), spread: spread(rps) })
    rows.push({ ...base, metric: `c=16 latency p99, ${name}`, value: median(get(name, 'p99')), unit: 'ms', baseline: null, ratio: null, spread: spread(get(name, 'p99')) })
    const cpu = get(name, 'cpuMsPerReq')
    rows.push({ ...base, metric: `server CPU per request, ${name}`, value: median(cpu), unit: 'ms/req', baseline: name === 'fastify bare' ? null : 'fastify bare', ratio: name === 'fastify bare' ? null : paired(cpu, get('fastify bare', 'cpuMsPerReq')), spread: spread(cpu) })
    rows.push({ ...base, metric: `load generator CPU while driving ${name}`, value: median(get(name, 'genCpuShare')) * 100, unit: '% of a core', baseline: null, ratio: null, note: name === 'fastify bare' ? 'autocannon in one process; near 100% means the floor measures the load generator, not the server' : undefined })
  }
  const rel = get('reltape replay', 'cpuMsPerReq')
  const cpuRatio = paired(rel, get('fastify bare', 'cpuMsPerReq'))
  rows.push({ ...base, metric: 'server CPU per request: reltape replay vs fastify bare', value: median(rel), unit: 'ms/req', baseline: 'fastify bare', ratio: cpuRatio, target: '≤ 1.5×', met: cpuRatio <= 1.5, note: pinned })
  const vsHeaders = paired(rel, get(FLOOR_HEADERS, 'cpuMsPerReq'))
  rows.push({ ...base, metric: `server CPU per request: reltape replay vs ${FLOOR_HEADERS}`, value: median(rel), unit: 'ms/req', baseline: FLOOR_HEADERS, ratio: vsHeaders, note: 'not a target: a floor that sends the same 11 recorded headers as replay does' })
  const rps = get('reltape replay', 'reqPerSec')
  const tRatio = paired(rps, get('talkback', 'reqPerSec'))
  rows.push({ ...base, metric: 'c=16 throughput: reltape replay vs talkback', value: median(rps), unit: 'req/s', baseline: 'talkback', ratio: tRatio, target: '≥ 3×', met: tRatio >= 3 })
  rows.push({ ...base, metric: `startReplay on ${SESSION_SIZE} exchanges`, value: startMs, unit: 'ms', baseline: null, ratio: null })
  const failed = names.reduce((sum, n) => sum + get(n, 'failed').reduce((a, b) => a + b, 0), 0)
  if (failed) rows.push({ ...base, metric: 'failed requests (non-2xx, errors, timeouts)', value: failed, unit: 'requests', baseline: null, ratio: null })
  return rows
}
