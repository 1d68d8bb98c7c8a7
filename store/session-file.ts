/**
 * The lowdb adapter for a session file. It is lowdb's own atomic DataFile (temporary file, then rename)
 * with one layout choice: the session's head is indented, and each exchange is one line.
 * Against `JSONFile`'s fully indented output this halves the file (52.6 → 27.8 MB for 10,000 demo
 * exchanges), and so the time to write it on stop and to read it in replay and the viewer, while a diff
 * in git still shows one changed line per changed exchange (`jq .` pretty-prints it whole).
 */
import { DataFile } from 'lowdb/node'
import type { Session } from '../model/session.js'

export function stringifySession(session: Session): string {
  const { exchanges, ...head } = session
  const headText = JSON.stringify({ ...head, exchanges: [] }, null, 2)
  if (exchanges.length === 0) return headText + '\n'
  const lines = exchanges.map((e) => '    ' + JSON.stringify(e)).join(',\n')
  // `"exchanges": []` is the last key of the head, so its closing bracket sits just before the final brace.
  const at = headText.lastIndexOf('[]')
  return `${headText.slice(0, at)}[\n${lines}\n  ]${headText.slice(at + 2)}\n`
}

export class SessionFile extends DataFile<Session> {
  constructor(file: string) {
    super(file, { parse: (text) => JSON.parse(text) as Session, stringify: stringifySession })
  }
}
