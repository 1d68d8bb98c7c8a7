/**
 * A recorder stand-in for the kill-during-stop test: journals `count` exchanges, says `closing`, then stops
 * (appending them to the session file). The parent kills it somewhere in that stop.
 */
import { SessionStore } from '../../store/store.js'
import { makeExchange } from './exchange-factory.js'

const [dir, name, countArg] = process.argv.slice(2)
const writer = await new SessionStore(dir!).open(name!, { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: () => {} })
const padding = 'p'.repeat(2000)
for (let i = 0; i < Number(countArg); i++) writer.append(makeExchange(writer.nextSeq(), `${i} ${padding}`))
writer.flush()
process.stdout.write(`closing ${writer.exchangeCount}\n`)
await writer.close()
process.stdout.write('closed\n')
