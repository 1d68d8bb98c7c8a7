/**
 * One measured run of the `har` scenario, in a process of its own so that its peak memory is its own (the parent
 * preloads lib/peak-rss.cjs). `import FILE DIR`: `importHar` of the file into DIR as users run `reltape import --all`.
 * `parse FILE`: the file read and `JSON.parse`d whole, the baseline. Prints `{ ms, items }` (ms from just before the
 * work to just after it: node's start and module loading are not counted).
 */
import { readFileSync } from 'node:fs'
import { importHar } from '../../store/har-import.js'

const [mode, file, dir] = process.argv.slice(2)
const t0 = performance.now()
let items: number
if (mode === 'parse') {
  const doc = JSON.parse(readFileSync(file!, 'utf8')) as { log: { entries: unknown[] } }
  items = doc.log.entries.length
} else {
  const result = await importHar(file!, { dir: dir!, session: 'bench', filter: { all: true } })
  items = result.exchanges
}
const ms = performance.now() - t0
process.stdout.write(JSON.stringify({ ms, items }))
