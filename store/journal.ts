/**
 * The append-only journal beside a session file: one JSON line per finished exchange (or new identity).
 * An append is one `writeSync` of one line, so its cost does not depend on the session's size, and a
 * process killed with SIGKILL loses nothing that was appended (the kernel holds the written bytes).
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs'
import { parseExchange, type Exchange, type Identity } from '../model/session.js'
import { ensurePrivateFile } from './private-file.js'

export type JournalEntry = { t: 'exchange'; exchange: Exchange } | { t: 'identity'; identity: Identity }

/** A journal line that is not valid: names the file and the line. */
export class JournalError extends Error {
  readonly code = 'JOURNAL_INVALID'
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}:${line}: ${problem}`)
    this.name = 'JournalError'
  }
}

/** The journal line of an exchange whose JSON text is already made. */
export function exchangeLine(exchangeJson: string): string {
  return `{"t":"exchange","exchange":${exchangeJson}}`
}

export class JournalWriter {
  #fd: number | null

  constructor(readonly file: string) {
    ensurePrivateFile(file)
    this.#fd = openSync(file, 'a')
  }

  append(entry: JournalEntry): void {
    this.appendLine(JSON.stringify(entry))
  }

  /** Appends an entry already serialised (one line of JSON, no newline). */
  appendLine(line: string): void {
    if (this.#fd === null) throw new Error(`journal ${this.file} is closed`)
    writeSync(this.#fd, line + '\n')
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }
}

export type JournalContents = {
  entries: JournalEntry[]
  /** A last line cut short by a crash mid-write: it held no complete entry, so nothing is lost by skipping it. */
  tornTail: boolean
}

/**
 * Reads a journal. A missing file is an empty journal. A bad line in the middle is an error;
 * a cut-off last line (a write interrupted by a crash) is reported as `tornTail`.
 */
export function readJournal(file: string): JournalContents {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], tornTail: false }
    throw e
  }
  const lines = text.split('\n')
  const endsClean = lines[lines.length - 1] === ''
  if (endsClean) lines.pop()
  const entries: JournalEntry[] = []
  let tornTail = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (line === '') continue
    const isLast = i === lines.length - 1
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch (e) {
      if (isLast && !endsClean) {
        tornTail = true
        break
      }
      throw new JournalError(file, i + 1, `not valid JSON (${(e as Error).message})`)
    }
    entries.push(checkEntry(value, file, i + 1))
  }
  return { entries, tornTail }
}

function checkEntry(value: unknown, file: string, line: number): JournalEntry {
  const v = value as { t?: unknown; exchange?: unknown; identity?: { alias?: unknown; tokenHash?: unknown } }
  if (v?.t === 'exchange') return { t: 'exchange', exchange: parseExchange(v.exchange, `${file}:${line}`, 'exchange') }
  if (v?.t === 'identity' && typeof v.identity?.alias === 'string' && typeof v.identity.tokenHash === 'string')
    return { t: 'identity', identity: v.identity as Identity }
  throw new JournalError(file, line, 'expected an exchange or identity entry')
}
