import { dirOption, type Command } from '../command.js'
import { SessionStore } from '../../store/store.js'
import { sessionsDir } from '../../store/paths.js'

export const sessionsCommand: Command = {
  name: 'sessions',
  summary: 'list the sessions in the sessions directory',
  options: {
    ...dirOption,
    json: { type: 'boolean', description: 'print a JSON array of { name, file, exchanges, errors, identities, createdAt, updatedAt }' },
  },
  async run({ values }) {
    const store = new SessionStore(sessionsDir(values.dir as string | undefined))
    const list = await store.list()
    if (values.json) {
      console.log(JSON.stringify(list, null, 2))
      return
    }
    if (list.length === 0) {
      console.log(`no sessions in ${store.dir}`)
      return
    }
    const rows = list.map((s) =>
      s.invalid
        ? [s.name, '-', '-', '-', s.updatedAt ?? '', `INVALID: ${s.invalid}`]
        : [s.name, String(s.exchanges), String(s.errors), String(s.identities), s.updatedAt ?? '', ''],
    )
    const head = ['NAME', 'EXCHANGES', 'ERRORS', 'IDENTITIES', 'UPDATED', '']
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
    for (const r of [head, ...rows]) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd())
    console.log(`\n${list.length} session(s) in ${store.dir}`)
  },
}
