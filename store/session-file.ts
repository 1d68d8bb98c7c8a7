/**
 * The lowdb adapter for a session file: lowdb's own atomic DataFile (temporary file, then rename) with one
 * layout choice: the session's head is indented, and each exchange is one line.
 * Against `JSONFile`'s fully indented output this halves the file (52.6 → 27.8 MB for 10,000 demo exchanges),
 * and with it the time to write it on stop and to read it in replay and the viewer, while a diff in git still
 * shows one changed line per changed exchange (`jq .` pretty-prints it whole).
 */
import { DataFile } from 'lowdb/node'
import type { Exchange, Session } from '../model/session.js'
import { exchangeJson } from './exchange-json.js'

export type SessionHead = Omit<Session, 'exchanges'>

/**
 * A session as its writer holds it: the head as data, each exchange as its compact JSON text (made once, for
 * the journal line). Text is a leaf to the garbage collector and costs nothing to serialise again, so a
 * recorder holding 10,000 exchanges neither stalls in GC nor re-stringifies them on stop.
 */
export type SessionDocument = { head: SessionHead; exchanges: ExchangeText[] }
export type ExchangeText = { seq: number; json: string }

export function renderSessionFile(doc: SessionDocument): string {
  const headText = JSON.stringify({ ...doc.head, exchanges: [] }, null, 2)
  if (doc.exchanges.length === 0) return headText + '\n'
  const lines = doc.exchanges.map((e) => '    ' + e.json).join(',\n')
  // `"exchanges": []` is the head's last key, so its brackets are the last `[]` in the text.
  const at = headText.lastIndexOf('[]')
  return `${headText.slice(0, at)}[\n${lines}\n  ]${headText.slice(at + 2)}\n`
}

/** The file text of a whole session object. */
export function stringifySession(session: Session): string {
  const { exchanges, ...head } = session
  return renderSessionFile({ head, exchanges: exchanges.map(exchangeText) })
}

export function exchangeText(exchange: Exchange): ExchangeText {
  return { seq: exchange.seq, json: exchangeJson(exchange) }
}

export class SessionFile extends DataFile<SessionDocument> {
  constructor(file: string) {
    super(file, {
      parse: (text) => {
        const { exchanges, ...head } = JSON.parse(text) as Session
        return { head, exchanges: exchanges.map(exchangeText) }
      },
      stringify: renderSessionFile,
    })
  }
}
