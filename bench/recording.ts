/**
 * Recording: JSON POSTs answered by a gzip envelope (about 2 KB decoded), at concurrency 1 and 16, with no
 * proxy (direct), through mockttp passing through with no capture (the floor), through `reltape record`
 * writing a real session, and through mitmdump saving its flows. Repetitions are interleaved, A B C D A B C D.
 */
import type { Dispatcher } from 'undici'
import { BenchChild, startNodeChild } from './lib/children.js'
import { cpuNs } from './lib/cpu.js'
import { API_PATH, sendSupportRequest, TOKEN } from './lib/envelope.js'
import { dispatcherFor, runLoad, type LoadResult } from './lib/load.js'
import { findMitmdump, startMitmdump } from './lib/mitmdump.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario, ScenarioContext } from './lib/scenario.js'
import { median, percentile, spread } from './lib/stats.js'
import { benchHome } from './lib/tls.js'

type Target = { name: string; proxy?: string; ca: string[]; pid?: number; child?: BenchChild }
type Sample = { reqPerSec: number; p50: number; p99: number; cpuMsPerReq: number | null; errors: number }

/** Not a target: mockttp handing out request, response and abort events to listeners that do nothing. */
const VARIANT = 'mockttp + event listeners'
const HEADERS = { cookie: `client-session=${TOKEN}`, origin: 'http://dev.iqstore.ru' }

export const recording: Scenario = {
  name: 'recording',
  describe: 'JSON POSTs through direct / mockttp bare / reltape record / mitmdump at c=1 and c=16',
  async run(ctx) {
    const count = ctx.quick ? 300 : 2000
    const reps = ctx.quick ? 2 : 5
    const warmup = ctx.quick ? 100 : 300
    const env = await benchHome('recording')
    const children: BenchChild[] = []
    const rows: ResultRow[] = []
    try {
      const up = await startNodeChild('upstream', { cert: env.upstreamCert.cert, key: env.upstreamCert.key })
      children.push(up.child)
      const origin = String(up.ready.url)
      const targets: Target[] = [{ name: 'direct', ca: [env.ca.cert] }]

      const bare = await startNodeChild('mockttp-bare', { home: env.home }, { env: { NODE_EXTRA_CA_CERTS: env.ca.certPath } })
      children.push(bare.child)
      targets.push({ name: 'mockttp bare', proxy: String(bare.ready.url), ca: [env.ca.cert], pid: bare.child.pid, child: bare.child })

      const rec = await startNodeChild('recorder', { home: env.home, dir: `${env.tmp}/sessions`, session: 'bench-recording' })
      children.push(rec.child)
      targets.push({ name: 'reltape record', proxy: String(rec.ready.url), ca: [env.ca.cert], pid: rec.child.pid, child: rec.child })

      // What mockttp itself spends to hand each exchange to listeners (buffering both bodies, building the event
      // objects, two setImmediate turns): the floor of any recorder built on its events. Evidence, not a target.
      const events = await startNodeChild('mockttp-bare', { home: env.home, listeners: 'request,response,abort' }, { env: { NODE_EXTRA_CA_CERTS: env.ca.certPath } })
      children.push(events.child)
      targets.push({ name: VARIANT, proxy: String(events.ready.url), ca: [env.ca.cert], pid: events.child.pid, child: events.child })

      const mitm = findMitmdump(ctx.log)
      let mitmNote: string | null = null
      if ('path' in mitm) {
        try {
          const m = await startMitmdump(mitm.path, env.tmp, env.ca.certPath)
          children.push(m.child)
          targets.push({ name: 'mitmdump', proxy: m.url, ca: [env.ca.cert, m.ca], pid: m.child.pid, child: m.child })
        } catch (e) {
          mitmNote = `mitmdump did not start: ${(e as Error).message.split('\n')[0]}`
        }
      } else mitmNote = mitm.missing
      if (mitmNote) ctx.log(mitmNote)

      let n = 0
      for (const concurrency of [1, 16]) {
        const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]))
        const dispatchers = new Map<string, Dispatcher>(targets.map((t) => [t.name, dispatcherFor({ origin, ca: t.ca, ...(t.proxy ? { proxy: t.proxy } : {}) }, concurrency)]))
        const load = (t: Target, requests: number): Promise<LoadResult> => {
          const first = n
          n += requests
          return runLoad({ dispatcher: dispatchers.get(t.name) as Dispatcher, origin, path: API_PATH, count: requests, concurrency, body: sendSupportRequest, headers: HEADERS, first, timeoutMs: 120_000 })
        }
        for (const t of targets) {
          const w = await load(t, warmup)
          if (w.errors) throw new Error(`${t.name}: ${w.errors} of ${warmup} warm-up requests failed, first: ${w.firstError}`)
        }
        // Event-loop delay over the measured repetitions, for the Node proxies: ours against the floor's, on the same load.
        const withLoop = targets.filter((t) => t.child && (t.name === 'mockttp bare' || t.name === 'reltape record'))
        for (const t of withLoop) await t.child?.ask('resetEventLoop')
        for (let rep = 0; rep < reps; rep++) {
          for (const t of targets) {
            const cpuBefore = t.pid ? cpuNs(t.pid) : 0
            const r = await load(t, count)
            const cpuMs = t.pid ? (cpuNs(t.pid) - cpuBefore) / 1e6 : null
            const lat = r.latenciesMs.filter((l) => !Number.isNaN(l))
            const s: Sample = { reqPerSec: r.reqPerSec, p50: percentile(lat, 50), p99: percentile(lat, 99), cpuMsPerReq: cpuMs === null ? null : cpuMs / r.count, errors: r.errors }
            samples.get(t.name)?.push(s)
            ctx.log(`  c=${concurrency} rep ${rep + 1}/${reps} ${t.name.padEnd(26)} ${s.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms` + (s.cpuMsPerReq === null ? '' : `  cpu ${s.cpuMsPerReq.toFixed(3)} ms/req`) + (r.errors ? `  ${r.errors} errors (${r.firstError})` : ''))
          }
        }
        for (const d of dispatchers.values()) await d.close()
        rows.push(...rowsFor(concurrency, targets, samples, mitmNote))
        for (const t of withLoop) {
          const stats = (await t.child?.ask('stats')) ?? {}
          rows.push({ scenario: 'recording', metric: `c=${concurrency} largest event-loop delay, ${t.name}`, value: Number(stats.eldMaxMs), unit: 'ms', baseline: null, ratio: null })
          rows.push({ scenario: 'recording', metric: `c=${concurrency} event-loop delay p99, ${t.name}`, value: Number(stats.eldP99Ms), unit: 'ms', baseline: null, ratio: null })
        }
      }
      const stopped = await rec.child.ask('stop')
      const summary = stopped.summary as { exchanges: number }
      const expected = 2 * (warmup + reps * count)
      rows.push({
        scenario: 'recording',
        metric: 'exchanges in the recorded session',
        value: summary.exchanges,
        unit: 'exchanges',
        baseline: 'requests sent through it',
        ratio: summary.exchanges / expected,
        note: summary.exchanges === expected ? undefined : `expected ${expected}`,
      })
      return rows
    } finally {
      for (const c of children) await c.kill()
      await env.cleanup()
    }
  },
}

/** Per-rep ratios of a to b, paired by repetition (they ran back to back), then their median. */
function pairedRatio(a: number[], b: number[]): number {
  return median(a.map((x, i) => x / (b[i] as number)))
}

function rowsFor(c: number, targets: Target[], samples: Map<string, Sample[]>, mitmNote: string | null): ResultRow[] {
  const rows: ResultRow[] = []
  const get = (name: string, key: keyof Sample): number[] => (samples.get(name) ?? []).map((s) => s[key] as number)
  const has = (name: string) => targets.some((t) => t.name === name)
  const base = { scenario: 'recording' }
  for (const t of targets) {
    const rps = get(t.name, 'reqPerSec')
    rows.push({ ...base, metric: `c=${c} throughput, ${t.name}`, value: median(rps), unit: 'req/s', baseline: t.name === 'direct' ? null : 'direct', ratio: t.name === 'direct' ? null : pairedRatio(rps, get('direct', 'reqPerSec')), spread: spread(rps) })
  }
  for (const t of targets) {
    rows.push({ ...base, metric: `c=${c} latency p50, ${t.name}`, value: median(get(t.name, 'p50')), unit: 'ms', baseline: null, ratio: null, spread: spread(get(t.name, 'p50')) })
    rows.push({ ...base, metric: `c=${c} latency p99, ${t.name}`, value: median(get(t.name, 'p99')), unit: 'ms', baseline: null, ratio: null, spread: spread(get(t.name, 'p99')) })
  }
  for (const t of targets.filter((t) => t.pid)) {
    const cpu = get(t.name, 'cpuMsPerReq')
    rows.push({ ...base, metric: `c=${c} proxy CPU per request, ${t.name}`, value: median(cpu), unit: 'ms/req', baseline: t.name === 'mockttp bare' ? null : 'mockttp bare', ratio: t.name === 'mockttp bare' ? null : pairedRatio(cpu, get('mockttp bare', 'cpuMsPerReq')), spread: spread(cpu) })
  }
  const rec = get('reltape record', 'reqPerSec')
  if (c === 16) {
    const r = pairedRatio(rec, get('mockttp bare', 'reqPerSec'))
    rows.push({ ...base, metric: 'c=16 throughput: reltape record vs mockttp bare', value: median(rec), unit: 'req/s', baseline: 'mockttp bare', ratio: r, target: '≥ 0.9×', met: r >= 0.9, spread: spread(rec) })
    if (has(VARIANT)) {
      const v = get(VARIANT, 'reqPerSec')
      rows.push({ ...base, metric: `c=16 throughput: ${VARIANT} vs mockttp bare`, value: median(v), unit: 'req/s', baseline: 'mockttp bare', ratio: pairedRatio(v, get('mockttp bare', 'reqPerSec')), spread: spread(v), note: 'not a target: mockttp bare with no-op request/response/abort listeners, the floor of a recorder built on its events' })
      rows.push({ ...base, metric: `c=16 throughput: reltape record vs ${VARIANT}`, value: median(rec), unit: 'req/s', baseline: VARIANT, ratio: pairedRatio(rec, v), spread: spread(rec), note: 'not a target: what capture costs over the events it is built on' })
    }
    if (has('mitmdump')) {
      const m = pairedRatio(rec, get('mitmdump', 'reqPerSec'))
      rows.push({ ...base, metric: 'c=16 throughput: reltape record vs mitmdump', value: median(rec), unit: 'req/s', baseline: 'mitmdump', ratio: m, target: '≥ 1.5×', met: m >= 1.5, spread: spread(rec) })
    } else rows.push({ ...base, metric: 'c=16 throughput: reltape record vs mitmdump', value: median(rec), unit: 'req/s', baseline: 'mitmdump', ratio: null, target: '≥ 1.5×', note: mitmNote ?? 'mitmdump not run' })
  } else {
    const added = get('reltape record', 'p50').map((x, i) => x - (get('direct', 'p50')[i] as number))
    const v = median(added)
    rows.push({ ...base, metric: 'c=1 added latency p50: reltape record over direct', value: v, unit: 'ms over baseline', baseline: 'direct', ratio: v, target: '≤ 1.2 ms', met: v <= 1.2, spread: spread(added) })
    for (const name of ['mockttp bare', VARIANT, 'mitmdump'].filter(has)) {
      const d = get(name, 'p50').map((x, i) => x - (get('direct', 'p50')[i] as number))
      rows.push({ ...base, metric: `c=1 added latency p50: ${name} over direct`, value: median(d), unit: 'ms over baseline', baseline: 'direct', ratio: median(d), spread: spread(d) })
    }
  }
  return rows
}

export type { ScenarioContext }
