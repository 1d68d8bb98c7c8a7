import { sessionsDir } from '../../store/paths.js'
import { findEachSession, matchesJsonText } from '../../store/find.js'
import { SessionStore } from '../../store/store.js'
import { loadRelsConfig } from '../../viewer/config.js'
import { dirOption, stringOption, UsageError, type Command } from '../command.js'

export const findCommand: Command = {
  name: 'find',
  summary: 'find the calls that carry or reference an entity (Clients#11), an Id, an Error.Code or a string',
  args: 'QUERY',
  positionals: { min: 1, max: 1 },
  options: {
    ...dirOption,
    session: { type: 'string', valueName: 'NAME', description: 'search this session only (default: every session in the directory)' },
    json: { type: 'boolean', description: 'print a JSON array of { "session", "seq", "where", "entity"? }' },
  },
  details: `
QUERY is one of:
  Type#Id   an entity, exactly (Clients#11 is neither Users#11 nor Clients#110): the calls whose answer carried it
            (where: Rels.Clients[0], Result[2]) and those that referenced it (where: Result[2].ClientId)
  an Id     every entity with that Id, carried or referenced (11, or a file's name)
  a code    the calls whose envelope's Error.Code it is (TicketClosed)
  text      when no Id or code matches: string values inside request and response bodies that contain it (any case)
"entity" is the entity the match sits in, when it sits in one. Each session's entities are indexed in
.<name>.entities beside it (a cache, rebuilt when the session changes). Types of Result objects come from the
method's name (clients/get → Clients) or reltape.config.json's "entities" table ({"chats/history": "Messages"}).
Exit status: 0 found, 1 nothing found, 2 usage error.

Examples:
  reltape find Clients#11
  reltape find TicketClosed --json
  reltape find 'order has not arrived' --session support-chat`,
  async run({ values, positionals }) {
    const query = positionals[0]!.trim()
    if (query === '') throw new UsageError('reltape find needs a non-empty QUERY (see `reltape find --help`)')
    const dir = sessionsDir(stringOption(values, 'dir'))
    const config = await loadRelsConfig(dir)
    const session = stringOption(values, 'session')
    const sessions = findEachSession(new SessionStore(dir), query, config, {
      ...(session !== undefined ? { session } : {}),
      warn: (m) => console.error(`reltape find: warning: ${m}`),
    })
    // Printed a session at a time as they are found: a query that matches every call of fifty sessions is never
    // held whole, as objects or as text.
    let count = 0
    const first = await sessions.next() // a session that is not there fails before anything is printed
    const each = async function* () {
      for (let r = first; !r.done; r = await sessions.next()) yield r.value
    }
    // One session's text is written while the next session is searched; never more than that is waiting.
    let written: Promise<void> = Promise.resolve()
    const print = async (text: string) => {
      await written
      written = printed(text)
    }
    if (values.json) {
      const counted = async function* () {
        for await (const matches of each()) {
          count += matches.length
          yield matches
        }
      }
      for await (const text of matchesJsonText(counted())) await print(text)
      await print('\n')
    } else {
      for await (const matches of each()) {
        count += matches.length
        let width = 0
        for (const m of matches) width = Math.max(width, `${m.session}#${m.seq}`.length + 2)
        let chunk = ''
        for (const m of matches) chunk += `${`${m.session}#${m.seq}`.padEnd(width)}${m.where}${m.entity ? `  (${m.entity})` : ''}\n`
        await print(chunk)
      }
      await print(`${count} match(es) for ${JSON.stringify(query)}\n`)
    }
    await written
    return count > 0 ? 0 : 1
  },
}

/** Writes to standard output; settles when it is taken (a reader slower than the search holds the search back). */
function printed(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (e) => (e ? reject(e) : resolve())))
}
