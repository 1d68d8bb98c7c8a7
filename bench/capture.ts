/**
 * Capture alone: the CPU reltape's recorder spends per exchange between mockttp's events and the journal, without
 * the network or mockttp (bench/children/capture.ts). The recording scenario measures the whole proxy, whose
 * noise (25–50% between repetitions on these machines) hides changes of a few microseconds; this one does not.
 */
import { startNodeChild } from './lib/children.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario } from './lib/scenario.js'
import { median, spread } from './lib/stats.js'

export const capture: Scenario = {
  name: 'capture',
  describe: 'the capture pipeline alone: synthetic mockttp events → exchanges → journal, CPU per exchange',
  async run(ctx) {
    const count = ctx.quick ? 4000 : 20_000
    const reps = ctx.quick ? 2 : 5
    const { child } = await startNodeChild('capture', {})
    try {
      // Warm-up: compiled code and a grown heap, as in a recorder that has been running a while.
      await child.ask('run', { count, capture: true })
      const harness: number[] = []
      const captured: number[] = []
      for (let i = 0; i < reps; i++) {
        harness.push(Number((await child.ask('run', { count, capture: false })).usPerExchange))
        const r = await child.ask('run', { count, capture: true })
        captured.push(Number(r.usPerExchange))
        ctx.log(`  rep ${i + 1}/${reps}: harness ${harness[i]?.toFixed(1)} µs, with capture ${captured[i]?.toFixed(1)} µs per exchange (${String(r.recorded)} recorded so far)`)
      }
      const own = captured.map((c, i) => c - (harness[i] ?? 0))
      const rows: ResultRow[] = [
        { scenario: 'capture', metric: 'CPU per exchange, making the events alone (harness)', value: median(harness), unit: 'µs', baseline: null, ratio: null, spread: spread(harness) },
        { scenario: 'capture', metric: 'CPU per exchange, capture (events → journal line written)', value: median(own), unit: 'µs', baseline: null, ratio: null, spread: spread(own), note: `${count} exchanges per repetition, 16 per event-loop turn, the harness's cost subtracted; the example envelope, gzip` },
      ]
      return rows
    } finally {
      await child.kill()
    }
  },
}
