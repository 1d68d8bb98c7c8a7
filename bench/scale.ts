/**
 * Scale: 10,000 exchanges recorded into one session through `reltape record`. Compares the recorder's cost
 * per exchange near the start (exchanges 101–300) and at the end (9,801–10,000), and reports the largest
 * event-loop stall while recording, the recorder's memory, the time to stop (write the session), and the
 * time for `reltape replay` to load the result.
 */
import { ProxyAgent } from 'undici'
import { pinApart } from './lib/affinity.js'
import { BenchChild, startNodeChild } from './lib/children.js'
import { appendCost } from './lib/append-cost.js'
import { cpuNs, rssBytes } from './lib/cpu.js'
import { API_PATH, RELS_PATH, sendSupportRequest, TOKEN } from './lib/envelope.js'
import { runLoad, type LoadResult } from './lib/load.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario } from './lib/scenario.js'
import { median, percentile, spread } from './lib/stats.js'
import { benchHome } from './lib/tls.js'

const HEADERS = { cookie: `client-session=${TOKEN}`, origin: 'http://dev.iqstore.ru' }

type Send = (count: number, concurrency: number, path?: string) => Promise<LoadResult>

export const scale: Scenario = {
  name: 'scale',
  describe: 'record 10,000 exchanges into one session; stalls, memory, stop; replay load time',
  async run(ctx) {
    const total = ctx.quick ? 2000 : 10_000
    const window = 200
    const env = await benchHome('scale')
    const children: BenchChild[] = []
    const rows: ResultRow[] = []
    const base = { scenario: 'scale' }
    try {
      const up = await startNodeChild('upstream', { cert: env.upstreamCert.cert, key: env.upstreamCert.key })
      children.push(up.child)
      const origin = String(up.ready.url)

      /**
       * Drives a proxy child that has a core of its own: its event loop then stalls for its own work (GC, a long
       * turn), not because the kernel gave its core to this load generator or the upstream (3 busy processes on 2
       * cores). `send` counts what was sent; a failure says what the child wrote to stderr. The child is stopped after.
       */
      const throughProxy = async <T>(child: BenchChild, url: string, what: string, drive: (p: { send: Send; sent: () => number; pinned: string }) => Promise<T>): Promise<T> => {
        const dispatcher = new ProxyAgent({ uri: url, requestTls: { ca: [env.ca.cert] }, connections: 16, keepAliveTimeout: 60_000 })
        const pinning = pinApart([child.pid], [up.child.pid])
        let sent = 0
        const send: Send = async (count, concurrency, path = API_PATH) => {
          const r = await runLoad({ dispatcher, origin, path, count, concurrency, body: sendSupportRequest, headers: HEADERS, first: sent, timeoutMs: 300_000 })
          sent += count
          if (r.errors) {
            const said = child.stderr.trim()
            throw new Error(`${r.errors} of ${count} requests through ${what} failed, first: ${r.firstError}${said ? `\n${what}'s stderr ends with:\n${said.slice(-1500)}` : ''}`)
          }
          return r
        }
        try {
          return await drive({ send, sent: () => sent, pinned: pinning.note })
        } finally {
          await dispatcher.close()
          // Unpinned again: what follows runs in this process and its new children.
          pinning.restore()
          await child.kill()
        }
      }
      // Between the two measured windows (concurrency 1), the bulk at concurrency 16, with one exchange whose Rels hold
      // 500 objects halfway (the viewer benchmark opens one like it).
      const middle = total - 100 - 2 * window - 1
      const bulk = async (send: Send) => {
        await send(Math.floor(middle / 2), 16)
        await send(1, 1, RELS_PATH)
        await send(Math.ceil(middle / 2), 16)
      }

      /** One recorder, one session of `total` exchanges: its windows, stalls, memory and stop. */
      const recordOnce = async (run: number) => {
        const rec = await startNodeChild('recorder', { home: env.home, dir: `${env.tmp}/sessions`, session: `bench-scale-${run}` })
        return throughProxy(rec.child, String(rec.ready.url), 'the recorder', async ({ send, sent, pinned }) => {
          // A window is measured at concurrency 1: one exchange at a time, so CPU and latency belong to it alone.
          const measureWindow = async () => {
            const before = cpuNs(rec.child.pid)
            const r = await send(window, 1)
            return { cpuMsPerExchange: (cpuNs(rec.child.pid) - before) / 1e6 / window, p50: percentile(r.latenciesMs, 50) }
          }
          const idleRss = rssBytes(rec.child.pid)
          await rec.child.ask('resetEventLoop')
          const t0 = performance.now()
          await send(100, 1)
          // The first exchanges pay one-time costs (the upstream trust store of ~150 CAs is built, a certificate is
          // made for the host, code is compiled): reported apart, so the target row shows what recording itself does.
          const startup = await rec.child.ask('stats')
          await rec.child.ask('resetEventLoop')
          const early = await measureWindow()
          await bulk(send)
          const late = await measureWindow()
          const recordMs = performance.now() - t0
          const stats = await rec.child.ask('stats')
          const rss = rssBytes(rec.child.pid)
          const stopped = await rec.child.ask('stop', {}, 300_000)
          const summary = stopped.summary as { exchanges: number; sessionFile: string }
          ctx.log(`  run ${run}: ${pinned}; recorded ${summary.exchanges} exchanges in ${(recordMs / 1000).toFixed(1)} s, largest stall ${Number(stats.eldMaxMs).toFixed(1)} ms (first 100: ${Number(startup.eldMaxMs).toFixed(1)} ms), stop ${Number(stopped.stopMs).toFixed(0)} ms`)
          return { pinned, sent: sent(), idleRss, startup, early, late, recordMs, stats, rss, stopMs: Number(stopped.stopMs), exchanges: summary.exchanges, sessionFile: String(stopped.sessionFile ?? summary.sessionFile) }
        })
      }

      /**
       * The same load through mockttp bare (no capture, no listeners), pinned the same way: how long the proxy's own
       * event loop stalls under it. The recorder's stall is compared with this, measured in the same run.
       */
      const floorOnce = async (run: number) => {
        const bare = await startNodeChild('mockttp-bare', { home: env.home }, { env: { NODE_EXTRA_CA_CERTS: env.ca.certPath } })
        return throughProxy(bare.child, String(bare.ready.url), 'mockttp bare', async ({ send }) => {
          await send(100, 1)
          await bare.child.ask('resetEventLoop')
          await send(window, 1)
          await bulk(send)
          await send(window, 1)
          const stats = await bare.child.ask('stats')
          ctx.log(`  run ${run}, mockttp bare: largest stall ${Number(stats.eldMaxMs).toFixed(1)} ms`)
          return stats
        })
      }

      const runs: Awaited<ReturnType<typeof recordOnce>>[] = []
      const floors: Awaited<ReturnType<typeof floorOnce>>[] = []
      // Interleaved, recorder then floor, so that both see the machine in the same state.
      for (let run = 1; run <= (ctx.quick ? 1 : 3); run++) {
        runs.push(await recordOnce(run))
        floors.push(await floorOnce(run))
      }
      const floorStall = median(floors.map((f) => Number(f.eldMaxMs)))
      const last = runs[runs.length - 1]!
      const of = (f: (r: (typeof runs)[number]) => number) => runs.map(f)
      const med = (f: (r: (typeof runs)[number]) => number) => median(of(f))
      const several = runs.length > 1 ? ` (median of ${runs.length} sessions)` : ''

      const ratio = med((r) => r.late.cpuMsPerExchange / r.early.cpuMsPerExchange)
      const stall = med((r) => Number(r.stats.eldMaxMs))
      const rss = med((r) => r.rss) / 2 ** 20
      rows.push(
        { ...base, metric: 'recorder CPU per exchange, exchanges 101–300', value: med((r) => r.early.cpuMsPerExchange), unit: 'ms', baseline: null, ratio: null, note: 'the early window still includes JIT warm-up, the late one does not: a ratio below 1 means the cost did not grow' },
        { ...base, metric: `recorder CPU per exchange at ${total - window + 1}–${total} vs 101–300`, value: med((r) => r.late.cpuMsPerExchange), unit: 'ms', baseline: 'exchanges 101–300', ratio, target: '≤ 1.5×', met: ratio <= 1.5, spread: spread(of((r) => r.late.cpuMsPerExchange / r.early.cpuMsPerExchange)) },
        { ...base, metric: `latency p50 through the recorder at ${total - window + 1}–${total} vs 101–300 (c=1)`, value: med((r) => r.late.p50), unit: 'ms', baseline: 'exchanges 101–300', ratio: med((r) => r.late.p50 / r.early.p50) },
        { ...base, metric: `largest event-loop stall while recording ${total} (exchanges 101–${total})${several}`, value: stall, unit: 'ms', baseline: 'mockttp bare, same load', ratio: stall / floorStall, spread: spread(of((r) => Number(r.stats.eldMaxMs))), target: '≤ 50 ms', met: stall <= 50, note: `${last.pinned}; each session: ${of((r) => Number(r.stats.eldMaxMs)).map((v) => v.toFixed(1)).join(', ')} ms` },
        { ...base, metric: `largest event-loop stall of mockttp bare under the same load (exchanges 101–${total})${several}`, value: floorStall, unit: 'ms', baseline: null, ratio: null, spread: spread(floors.map((f) => Number(f.eldMaxMs))), note: `no capture, no listeners, pinned the same way; each session: ${floors.map((f) => Number(f.eldMaxMs).toFixed(1)).join(', ')} ms` },
        { ...base, metric: `event-loop delay p99 of mockttp bare under the same load`, value: median(floors.map((f) => Number(f.eldP99Ms))), unit: 'ms', baseline: null, ratio: null },
        { ...base, metric: `GC time per exchange while recording ${total}`, value: med((r) => Number(r.stats.gcTotalMs) * 1000 / (total - 100)), unit: 'µs', baseline: 'mockttp bare, same load', ratio: med((r) => Number(r.stats.gcTotalMs)) / median(floors.map((f) => Number(f.gcTotalMs))), note: `mockttp bare: ${(median(floors.map((f) => Number(f.gcTotalMs))) * 1000 / (total - 100)).toFixed(0)} µs per exchange` },
        { ...base, metric: 'largest event-loop stall over the first 100 exchanges (one-time setup)', value: med((r) => Number(r.startup.eldMaxMs)), unit: 'ms', baseline: null, ratio: null, note: 'building the upstream trust store (~30 ms of addCACert), the host certificate, JIT' },
        { ...base, metric: `event-loop delay p99 while recording ${total} (exchanges 101–${total})`, value: med((r) => Number(r.stats.eldP99Ms)), unit: 'ms', baseline: null, ratio: null },
        { ...base, metric: `longest GC pause while recording ${total}`, value: med((r) => Number(r.stats.gcMaxMs)), unit: 'ms', baseline: null, ratio: null, note: `GC total ${(med((r) => Number(r.stats.gcTotalMs)) / 1000).toFixed(1)} s while recording` },
        { ...base, metric: `recorder resident memory at ${total} exchanges`, value: rss, unit: 'MB', baseline: null, ratio: null, target: '≤ 300 MB', met: rss <= 300, spread: spread(of((r) => r.rss)) },
        { ...base, metric: 'recorder resident memory when started (before any exchange)', value: med((r) => r.idleRss) / 2 ** 20, unit: 'MB', baseline: null, ratio: null },
        { ...base, metric: `recorder heap used at ${total} exchanges`, value: med((r) => Number(r.stats.heapUsed)) / 2 ** 20, unit: 'MB', baseline: null, ratio: null },
        { ...base, metric: `time to stop the recorder and write ${last.exchanges} exchanges`, value: med((r) => r.stopMs), unit: 'ms', baseline: null, ratio: null, spread: spread(of((r) => r.stopMs)) },
        { ...base, metric: `recording ${total} exchanges (c=16 between the windows)`, value: med((r) => r.recordMs) / 1000, unit: 's', baseline: null, ratio: null },
      )
      for (const r of runs) if (r.exchanges !== r.sent) rows.push({ ...base, metric: 'exchanges missing from a session', value: r.sent - r.exchanges, unit: 'exchanges', baseline: null, ratio: null })

      const store = await appendCost(env.tmp, total, window)
      const storeRatio = store.lateUs / store.earlyUs
      rows.push(
        { ...base, metric: 'store append (journal), exchanges 1–200', value: store.earlyUs, unit: 'µs', baseline: null, ratio: null },
        { ...base, metric: `store append (journal), exchanges ${total - window + 1}–${total}`, value: store.lateUs, unit: 'µs', baseline: 'exchanges 1–200', ratio: storeRatio },
        { ...base, metric: `store close (lowdb write of ${total})`, value: store.closeMs, unit: 'ms', baseline: null, ratio: null },
      )

      for (const c of children) await c.kill()
      children.length = 0
      const t1 = performance.now()
      const rep = await startNodeChild('replay', { session: last.sessionFile })
      const processMs = performance.now() - t1
      children.push(rep.child)
      const startMs = Number(rep.ready.startMs)
      rows.push(
        { ...base, metric: `replay ready on ${last.exchanges} exchanges (startReplay)`, value: startMs / 1000, unit: 's', baseline: null, ratio: null, target: '≤ 1.5 s', met: startMs <= 1500 },
        { ...base, metric: `replay process start to ready, ${last.exchanges} exchanges (includes node start)`, value: processMs / 1000, unit: 's', baseline: null, ratio: null },
        { ...base, metric: `replay resident memory, ${last.exchanges} exchanges`, value: Number(rep.ready.rss) / 2 ** 20, unit: 'MB', baseline: null, ratio: null },
      )
      return rows
    } finally {
      for (const c of children) await c.kill()
      await env.cleanup()
    }
  },
}
