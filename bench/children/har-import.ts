/**
 * One measured run of the `har` scenario, in a process of its own so that its peak memory is its own (the parent
 * preloads lib/peak-rss.cjs). `import FILE DIR`: `importHar` of the file into DIR as users run `reltape import --all`.
 * `parse FILE`: the file read and `JSON.parse`d whole, the baseline. `floor FILE`: the JSON work no import can skip,
 * and nothing else: each entry parsed as the import's scanner finds it, each answer parsed and serialised again
 * (the check that tells whether its text must be kept as `raw`); no checks, no writing. Prints `{ ms, items }` (ms
 * from just before the work to just after it: node's start and module loading are not counted).
 */
import { createReadStream, readFileSync } from 'node:fs'
import { importHar } from '../../store/har-import.js'
import { scanHar } from '../../store/har-scan.js'

const [mode, file, dir] = process.argv.slice(2)
const t0 = performance.now()
let items: number
if (mode === 'parse') {
  const doc = JSON.parse(readFileSync(file!, 'utf8')) as { log: { entries: unknown[] } }
  items = doc.log.entries.length
} else if (mode === 'floor') {
  items = 0
  let raw = 0
  await scanHar(createReadStream(file!, { highWaterMark: 1 << 20 }), file!, {
    onEntry(value) {
      const text = (value as { response?: { content?: { text?: unknown } } }).response?.content?.text
      if (typeof text === 'string' && JSON.stringify(JSON.parse(text)) !== text) raw++
      items++
    },
  })
  if (raw < 0) throw new Error('unreachable: keeps the comparison from being optimised away')
} else {
  const result = await importHar(file!, { dir: dir!, session: 'bench', filter: { all: true } })
  items = result.exchanges
}
const ms = performance.now() - t0
process.stdout.write(JSON.stringify({ ms, items }))
