/**
 * Prints the functions with the most self time in a V8 CPU profile (`node --cpu-prof`), with file:line,
 * and the same summed by file: the evidence to act on when a benchmark misses its target.
 *   node --import tsx bench/profile-summary.ts bench/results/profiles/recorder-…/CPU….cpuprofile [top] [stretches]
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SourceMapConsumer, type RawSourceMap } from 'source-map-js'

type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber?: number }; hitCount?: number; children?: number[] }
type Profile = { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, topArg] = process.argv.slice(2)
if (!file) {
  console.error('usage: bench/profile-summary.ts <file.cpuprofile> [top]')
  process.exit(2)
}
const top = Number(topArg ?? 25)
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const selfUs = new Map<number, number>()
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
}
const totalUs = profile.endTime - profile.startTime
// Frames of the viewer's bundle (a page profile) are mapped back to viewer/ui/src through dist/ui's source maps.
const maps = new Map<string, SourceMapConsumer | null>()
// Frames of the compiled bench children (node_modules/.cache/reltape-bench/*.mjs) are mapped back to the .ts files too.
function bundleMap(url: string): SourceMapConsumer | null {
  const child = /^file:\/\/(.*\/reltape-bench\/[^/]+\.mjs)$/.exec(url)?.[1]
  const name = child ?? /\/assets\/([^/?#]+\.js)/.exec(url)?.[1]
  if (!name) return null
  if (!maps.has(name)) {
    // Beside the profile (the viewer scenario copies them there), else in the current dist/ui.
    const file = child
      ? [`${child}.map`].find((f) => existsSync(f))
      : [join(dirname(String(process.argv[2])), `${name}.map`), fileURLToPath(new URL(`../dist/ui/assets/${name}.map`, import.meta.url))].find((f) => existsSync(f))
    maps.set(name, file ? new SourceMapConsumer(JSON.parse(readFileSync(file, 'utf8')) as RawSourceMap) : null)
  }
  return maps.get(name) ?? null
}
const where = (n: Node) => {
  const map = bundleMap(n.callFrame.url)
  if (map) {
    const o = map.originalPositionFor({ line: n.callFrame.lineNumber + 1, column: n.callFrame.columnNumber ?? 0 })
    if (o.source) return `${o.source.replace(/^(\.\.\/)+/, '')}:${o.line}${o.name ? ` (${o.name})` : ''}`
  }
  const url = n.callFrame.url.replace(/^file:\/\//, '')
  return url ? `${relative(process.cwd(), url)}:${n.callFrame.lineNumber + 1}` : '(native)'
}
const fns = new Map<string, number>()
const files = new Map<string, number>()
for (const [id, us] of selfUs) {
  const n = byId.get(id)
  if (!n) continue
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${where(n)}`
  fns.set(key, (fns.get(key) ?? 0) + us)
  const f = where(n).replace(/ \(.*\)$/, '').replace(/:\d+$/, '').replace(/^.*node_modules\/((@[^/]+\/)?[^/]+).*$/, 'node_modules/$1')
  files.set(f, (files.get(f) ?? 0) + us)
}
const pct = (us: number) => `${((us / totalUs) * 100).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms`
console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s profiled\n\ntop self time by function:`)
for (const [k, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`)
console.log('\nself time by file or package:')
for (const [k, us] of [...files].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`)

// The longest stretches without an idle sample: what blocked the event loop, and in which functions.
const parent = new Map<number, number>()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const stack = (id: number): string[] => {
  const out: string[] = []
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const n = byId.get(cur)
    if (n && n.callFrame.functionName !== '(root)') out.push(`${n.callFrame.functionName || '(anonymous)'} ${where(n)}`)
  }
  return out
}
type Stretch = { startUs: number; us: number; samples: number[] }
const stretches: Stretch[] = []
let current: Stretch | null = null
let t = 0
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i] as number
  const dt = profile.timeDeltas[i] ?? 0
  t += dt
  const idle = byId.get(id)?.callFrame.functionName === '(idle)'
  if (idle) {
    if (current) stretches.push(current)
    current = null
  } else {
    current ??= { startUs: t, us: 0, samples: [] }
    current.us += dt
    current.samples.push(id)
  }
}
if (current) stretches.push(current)
console.log('\nlongest busy stretches (no idle sample between; a stretch is at least that long a stall):')
for (const s of stretches.sort((a, b) => b.us - a.us).slice(0, Number(process.argv[4] ?? 3))) {
  console.log(`  ${(s.us / 1000).toFixed(0)} ms at ${(s.startUs / 1e6).toFixed(1)} s; deepest frames most seen:`)
  const counts = new Map<string, number>()
  for (const id of s.samples) {
    const frames = stack(id).slice(0, 4).join(' < ')
    counts.set(frames, (counts.get(frames) ?? 0) + 1)
  }
  for (const [frames, c] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 4)) console.log(`    ${c} samples: ${frames}`)
}
