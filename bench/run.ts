/**
 * `npm run bench [-- --quick] [-- --only recording,replay]`: runs the scenarios one after another, prints a
 * table for each and merges their rows into bench/results/latest.json and latest.md. Never part of `npm test`.
 */
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { saveResults, printTable, type ResultRow } from './lib/results.js'
import type { Scenario } from './lib/scenario.js'
import { capture } from './capture.js'
import { drift } from './drift.js'
import { entities } from './entities.js'
import { har } from './har.js'
import { recording } from './recording.js'
import { replay } from './replay.js'
import { scale } from './scale.js'
import { sizes } from './sizes.js'
import { viewer } from './viewer.js'

const scenarios: Scenario[] = [recording, capture, replay, scale, viewer, sizes, har, drift, entities]

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
})
if (values.help) {
  console.log('npm run bench [-- --quick] [-- --only <scenario>[,<scenario>…]] [-- --profile]\n')
  console.log('  --profile  reltape\'s children write V8 CPU profiles to bench/results/profiles (summarise with bench/profile-summary.ts)\n\nscenarios:')
  for (const s of scenarios) console.log(`  ${s.name.padEnd(10)} ${s.describe}`)
  process.exit(0)
}
const only = values.only ? values.only.split(',').map((s) => s.trim()) : null
const unknown = (only ?? []).filter((name) => !scenarios.some((s) => s.name === name))
if (unknown.length) {
  console.error(`unknown scenario ${unknown.join(', ')}; there are: ${scenarios.map((s) => s.name).join(', ')}`)
  process.exit(2)
}
const selected = scenarios.filter((s) => !only || only.includes(s.name))
const command = `npm run bench${values.quick || only ? ' --' : ''}${values.quick ? ' --quick' : ''}${only ? ` --only ${only.join(',')}` : ''}`
const log = (m: string) => console.log(m)
if (values.profile) {
  process.env.RELTAPE_BENCH_PROFILE = fileURLToPath(new URL('results/profiles/', import.meta.url))
  console.log(`CPU profiles of reltape's children go to ${process.env.RELTAPE_BENCH_PROFILE}`)
}

let failed = false
for (const scenario of selected) {
  console.log(`\n== ${scenario.name}: ${scenario.describe}${values.quick ? ' (quick)' : ''}`)
  const t0 = performance.now()
  let rows: ResultRow[]
  try {
    rows = await scenario.run({ quick: values.quick, log })
  } catch (e) {
    failed = true
    console.error(`${scenario.name} failed: ${(e as Error).stack ?? String(e)}`)
    rows = [{ scenario: scenario.name, metric: 'scenario failed', value: null, unit: '', baseline: null, ratio: null, note: (e as Error).message.split('\n')[0] }]
  }
  printTable(`${scenario.name} (${((performance.now() - t0) / 1000).toFixed(0)} s)`, rows)
  saveResults([scenario.name], rows, command, values.quick)
}
console.log('\nwrote bench/results/latest.json and bench/results/latest.md')
process.exit(failed ? 1 : 0)
