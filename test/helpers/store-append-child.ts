/**
 * A recorder stand-in for the crash test: opens a session, appends exchanges one by one and reports them
 * on stdout once the turn of the event loop that appended them has ended (the journal's promise: appends are
 * on disk before the next turn), so the parent knows what must survive a SIGKILL.
 */
import { SessionStore } from '../../store/store.js'
import { makeExchange } from './exchange-factory.js'

const [dir, name, countArg] = process.argv.slice(2)
const store = new SessionStore(dir!)
const writer = await store.open(name!, { recording: { tool: 'test', mode: 'forward', upstream: null } })
const count = Number(countArg)
let appended: number[] = []
for (let i = 0; i < count; i++) {
  const seq = writer.nextSeq()
  writer.append(makeExchange(seq))
  appended.push(seq)
  if (i % 50 === 49) {
    // Let the turn end (the journal writes then), report, and give the parent's kill a moment to land mid-run.
    await new Promise((r) => setImmediate(r))
    for (const s of appended) process.stdout.write(`appended ${s}\n`)
    appended = []
    await new Promise((r) => setTimeout(r, 1))
  }
}
process.stdout.write('all appended\n')
await new Promise((r) => setTimeout(r, 60_000))
