/**
 * A recorder stand-in for the crash test: opens a session, appends exchanges one by one and reports each
 * on stdout *after* append() returned, so the parent knows what must survive a SIGKILL.
 */
import { SessionStore } from '../../store/store.js'
import { makeExchange } from './exchange-factory.js'

const [dir, name, countArg] = process.argv.slice(2)
const store = new SessionStore(dir!)
const writer = await store.open(name!, { recording: { tool: 'test', mode: 'forward', upstream: null } })
const count = Number(countArg)
for (let i = 0; i < count; i++) {
  const seq = writer.nextSeq()
  writer.append(makeExchange(seq))
  process.stdout.write(`appended ${seq}\n`)
  // Yield now and then so the parent's kill can land mid-run.
  if (i % 50 === 0) await new Promise((r) => setTimeout(r, 1))
}
process.stdout.write('all appended\n')
await new Promise((r) => setTimeout(r, 60_000))
