/** JSON text parsed with an error a person can act on: the file, line and column where it breaks. */
import { SessionFormatError } from './session.js'

/** Parses JSON text, or throws a SessionFormatError naming the file, the line and the column where it breaks. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    const message = (e as Error).message
    const m = /position (\d+)/.exec(message)
    const pos = m ? Number(m[1]) : text.length
    const before = text.slice(0, pos)
    const line = before.split('\n').length
    const col = pos - before.lastIndexOf('\n')
    const what = m ? message.replace(/\s*in JSON at position \d+.*$/, '') : 'the file ends before the JSON does (truncated?)'
    throw new SessionFormatError(file, `line ${line}, column ${col}`, `not valid JSON: ${what}`)
  }
}

