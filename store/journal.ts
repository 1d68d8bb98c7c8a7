/**
 * The append-only journal beside a session file: one JSON line per finished exchange (or new identity).
 * Appends made in one turn of the event loop are written together, by one `write` before the next turn
 * (a proxy under load finishes several exchanges per turn, and each syscall costs more than its bytes), so the
 * cost of an append does not depend on the session's size. What is written survives a SIGKILL: the kernel
 * holds it. `flush()` writes at once; the journal also flushes when the process exits.
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from 'node:fs'
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

const EXCHANGE_PREFIX = '{"t":"exchange","exchange":'

/** The journal line of an exchange whose JSON text is already made. */
export function exchangeLine(exchangeJson: string): string {
  return `${EXCHANGE_PREFIX}${exchangeJson}}`
}

/** Journals with lines not yet written: flushed if the process exits before their turn ends. */
const unflushed = new Set<JournalWriter>()
let exitHook = false

export class JournalWriter {
  #fd: number | null
  #pending: string[] = []
  #scheduled: NodeJS.Immediate | null = null
  #size = 0

  constructor(readonly file: string) {
    ensurePrivateFile(file)
    this.#fd = openSync(file, 'a')
    if (!exitHook) {
      exitHook = true
      process.once('exit', () => {
        for (const j of unflushed) j.flush()
      })
    }
  }

  /** Bytes written to the file so far (not counting lines still pending). */
  get size(): number {
    return this.#size
  }

  append(entry: JournalEntry): void {
    this.appendLine(JSON.stringify(entry))
  }

  /** Appends an entry already serialised (one line of JSON, no newline); written before the next turn. */
  appendLine(line: string): void {
    if (this.#fd === null) throw new Error(`journal ${this.file} is closed`)
    this.#pending.push(line)
    if (this.#scheduled === null) {
      this.#scheduled = setImmediate(() => this.flush())
      unflushed.add(this)
    }
  }

  /** Writes the pending lines now, in one write. */
  flush(): void {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled)
    this.#scheduled = null
    unflushed.delete(this)
    if (this.#pending.length === 0 || this.#fd === null) return
    const bytes = Buffer.from(this.#pending.join('\n') + '\n')
    this.#pending = []
    let at = 0
    while (at < bytes.length) at += writeSync(this.#fd, bytes, at)
    this.#size += bytes.length
  }

  close(): void {
    this.flush()
    if (this.#fd !== null) closeSync(this.#fd)
    this.#fd = null
  }
}

/**
 * The exchange texts of the journal lines in bytes [from, to) of a journal this process writes, in file order, as
 * UTF-8 bytes, without decoding or parsing them (they are `exchangeLine`s: the text sits between a fixed prefix
 * and the closing brace).
 */
export function journaledExchangeTexts(file: string, from: number, to: number): Buffer[] {
  if (to <= from) return []
  const fd = openSync(file, 'r')
  const bytes = Buffer.allocUnsafe(to - from)
  try {
    let got = 0
    while (got < bytes.length) {
      const n = readSync(fd, bytes, got, bytes.length - got, from + got)
      if (n === 0) throw new JournalError(file, 0, `ends at ${from + got} bytes; ${to} were written`)
      got += n
    }
  } finally {
    closeSync(fd)
  }
  const out: Buffer[] = []
  const prefix = Buffer.from(EXCHANGE_PREFIX)
  let start = 0
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start)
    if (end < 0) end = bytes.length
    // A line is `<prefix><exchange json>}`: what lies between is the exchange's own text.
    if (end - start > prefix.length && bytes[end - 1] === 0x7d && bytes.subarray(start, start + prefix.length).equals(prefix)) out.push(bytes.subarray(start + prefix.length, end - 1))
    start = end + 1
  }
  return out
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
