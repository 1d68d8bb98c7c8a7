/**
 * `npm run faults`: the fault suite (test/faults/<area>-<case>.test.ts) as a table of cases tried, held and failed
 * by area, for the README's Reliability section. A case is one test; it holds when its promise held.
 */
import { basename } from 'node:path'
import type { Reporter, TestModule } from 'vitest/node'

type Counts = { tried: number; held: number; failed: number; skipped: number }

export default class FaultsTableReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const areas = new Map<string, Counts>()
    const failures: string[] = []
    for (const module of testModules) {
      const area = basename(module.moduleId).replace(/\.test\.ts$/, '').split('-')[0] ?? 'other'
      const counts = areas.get(area) ?? { tried: 0, held: 0, failed: 0, skipped: 0 }
      areas.set(area, counts)
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'skipped' || state === 'pending') {
          counts.skipped++
          continue
        }
        counts.tried++
        if (state === 'passed') counts.held++
        else {
          counts.failed++
          failures.push(`${basename(module.moduleId)}: ${test.fullName}`)
        }
      }
      if (module.state() === 'failed' && [...module.children.allTests()].length === 0) {
        counts.failed++
        failures.push(`${basename(module.moduleId)}: did not load`)
      }
    }
    const total: Counts = { tried: 0, held: 0, failed: 0, skipped: 0 }
    const lines = ['', '| area | cases tried | held | failed | skipped |', '|---|---:|---:|---:|---:|']
    for (const [area, c] of [...areas].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`| ${area} | ${c.tried} | ${c.held} | ${c.failed} | ${c.skipped} |`)
      for (const k of Object.keys(total) as (keyof Counts)[]) total[k] += c[k]
    }
    lines.push(`| **all** | **${total.tried}** | **${total.held}** | **${total.failed}** | **${total.skipped}** |`)
    if (failures.length) lines.push('', 'failed:', ...failures.map((f) => `- ${f}`))
    process.stdout.write(lines.join('\n') + '\n')
  }
}
