import { sessionsDir } from '../../store/paths.js'
import { findInSessions } from '../../store/find.js'
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
    const matches = await findInSessions(new SessionStore(dir), query, config, {
      ...(session !== undefined ? { session } : {}),
      warn: (m) => console.error(`reltape find: warning: ${m}`),
    })
    if (values.json) console.log(JSON.stringify(matches, null, 2))
    else {
      const width = Math.max(0, ...matches.map((m) => `${m.session}#${m.seq}`.length)) + 2
      for (const m of matches) console.log(`${`${m.session}#${m.seq}`.padEnd(width)}${m.where}${m.entity ? `  (${m.entity})` : ''}`)
      console.log(`${matches.length} match(es) for ${JSON.stringify(query)}`)
    }
    return matches.length > 0 ? 0 : 1
  },
}
