/**
 * The append-only journal beside a session file: one JSON line per finished exchange (or new identity).
 * Appends made in one turn of the event loop are written together, by one `write` before the next turn
 * (a proxy under load finishes several exchanges per turn, and each syscall costs more than its bytes), so the
 * cost of an append does not depend on the session's size. What is written survives a SIGKILL: the kernel
 * holds it. `flush()` writes at once; the journal also flushes when the process exits.
 *
 * A write that fails (a full disk) is cut back to the journal's last whole line and ends its writing: `flush()`
 * throws the error for the lines it could not write, and so does every later append, so that nobody takes a line
 * for written that is not.
 */
import { closeSync, fsyncSync, ftruncateSync, writeSync } from 'node:fs'
import { ByteWindow } from './byte-window.js'
import { ReltapeError } from '../model/errors.js'
import { parseExchange, type Exchange, type Identity } from '../model/session.js'
import { createPrivateFile, replaceFile } from './private-file.js'
import { writeFully } from './read-write-fully.js'

export type JournalEntry = { t: 'exchange'; exchange: Exchange } | { t: 'identity'; identity: Identity }

/** A journal line that is not valid: names the file and the line. */
export class JournalError extends ReltapeError<'JOURNAL_INVALID'> {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super('JOURNAL_INVALID', { file, line, problem })
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
/** Open journals. The process's `exit` is listened to only while there is one: an embedder's process is left as it was. */
const open = new Set<JournalWriter>()

export class JournalWriter {
  #fd: number | null
  #pending: string[] = []
  #scheduled: NodeJS.Immediate | null = null
  #size = 0
  #failure: Error | null = null

  /** Creates the journal: it must not exist (the writer folds an old one first), and a link there is refused. */
  constructor(readonly file: string) {
    this.#fd = createPrivateFile(file)
    if (open.size === 0) process.on('exit', JournalWriter.#flushAtExit)
    open.add(this)
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
    if (this.#failure) throw this.#failure
    this.#pending.push(line)
    if (this.#scheduled === null) {
      this.#scheduled = setImmediate(() => this.#flushQuietly())
      unflushed.add(this)
    }
  }

  /** Writes the pending lines now, in one write; throws the write's error when they could not be written. */
  flush(): void {
    if (this.#scheduled !== null) clearImmediate(this.#scheduled)
    this.#scheduled = null
    unflushed.delete(this)
    if (this.#pending.length === 0 || this.#fd === null) return
    const bytes = Buffer.from(this.#pending.join('\n') + '\n')
    this.#pending = []
    let at = 0
    try {
      while (at < bytes.length) at += writeSync(this.#fd, bytes, at)
    } catch (e) {
      this.#failure = e as Error
      try {
        if (at > 0) ftruncateSync(this.#fd, this.#size)
      } catch {
        // A partial last line is skipped by every reader anyway (see scanJournal).
      }
      throw e
    }
    this.#size += bytes.length
  }

  /** The process exits with lines still pending: they are written now, if they can be. */
  static readonly #flushAtExit = (): void => {
    for (const j of unflushed) j.#flushQuietly()
  }

  /** A flush nobody waits on (the end of a turn, the process's exit): a failure is kept for the next append or flush. */
  #flushQuietly(): void {
    try {
      this.flush()
    } catch {
      // kept in #failure
    }
  }

  /** Writes the pending lines and waits until the journal is on the disk itself (fsync), not only in the kernel. */
  sync(): void {
    this.flush()
    if (this.#fd !== null) fsyncSync(this.#fd)
  }

  close(): void {
    try {
      this.flush()
    } finally {
      if (this.#fd !== null) closeSync(this.#fd)
      this.#fd = null
      open.delete(this)
      if (open.size === 0) process.off('exit', JournalWriter.#flushAtExit)
    }
  }
}

/**
 * Rewrites a journal a line at a time: `transform` gives a line's new text, or null to keep the line as it is. The
 * result goes to a private temporary file beside the journal, synced, then renamed over it: a crash leaves the old
 * journal or the new one, never a mix. Nothing may append to the journal meanwhile: a session's writer rewrites its
 * journal through `SessionWriter.rewriteJournal`, which closes it first. Returns how many lines changed.
 */
export async function rewriteJournal(file: string, transform: (line: string) => string | null): Promise<number> {
  const w = await ByteWindow.open(file)
  if (!w) return 0
  try {
    return await replaceFile(file, async (handle) => {
      let changed = 0
      let at = 0
      const held: Buffer[] = []
      let heldBytes = 0
      const writeHeld = async () => {
        at += await writeFully(handle, held, at)
        held.length = 0
        heldBytes = 0
      }
      const put = (bytes: Buffer) => {
        held.push(bytes)
        heldBytes += bytes.length
      }
      for await (const nl of w.lines()) {
        const pos = w.lineStart
        const next = nl > pos ? transform(w.buf.toString('utf8', pos, nl)) : null
        if (next === null) put(Buffer.from(w.buf.subarray(pos, nl + 1)))
        else {
          changed++
          put(Buffer.from(`${next}\n`))
        }
        if (heldBytes >= 1 << 20) await writeHeld()
      }
      // Bytes after the last newline (a line cut short by a crash) stay as they were.
      if (w.end > w.lineStart) put(Buffer.from(w.buf.subarray(w.lineStart, w.end)))
      await writeHeld()
      return changed
    }, { durable: true })
  } finally {
    await w.close()
  }
}

/** One journal line: where it is (for reading its exchange again later) and what it holds. */
export type JournalLine = { offset: number; length: number; line: number; entry: JournalEntry }

export type JournalScan = {
  /** Just past the last complete line: where reading goes on when the journal grows. */
  end: number
  /** Complete lines read (counting from the line at `from`). */
  lines: number
  /** Bytes after the last newline: a line still being written, or one cut short by a crash. */
  partial: boolean
  /** The journal's first bytes (up to JOURNAL_HEAD_BYTES): tell a replaced journal from a grown one. */
  head: Buffer
}

export const JOURNAL_HEAD_BYTES = 256

/**
 * Reads a journal from byte `from` (a previous scan's `end`) a line at a time, calling `onLine` for each
 * complete line, without ever holding the journal as one string. A bad complete line is a JournalError naming
 * the file and the line; bytes after the last newline are left for the next scan (`partial`). Null when the
 * journal does not exist.
 */
export async function scanJournal(
  file: string,
  onLine: (line: JournalLine) => void | Promise<void>,
  from = 0,
  firstLine = 1,
): Promise<JournalScan | null> {
  const w = await ByteWindow.open(file, from)
  if (!w) return null
  let head = Buffer.alloc(0)
  let lineNo = firstLine
  try {
    for await (const nl of w.lines()) {
      const pos = w.lineStart
      if (from === 0 && head.length === 0 && w.base === 0) head = Buffer.from(w.buf.subarray(0, Math.min(JOURNAL_HEAD_BYTES, w.end)))
      const offset = w.base + pos
      if (nl > pos) {
        let value: unknown
        try {
          value = JSON.parse(w.buf.toString('utf8', pos, nl))
        } catch (e) {
          throw new JournalError(file, lineNo, `not valid JSON (${(e as Error).message})`)
        }
        await onLine({ offset, length: nl - pos, line: lineNo, entry: checkEntry(value, file, lineNo) })
      }
      lineNo++
    }
    return { end: w.base + w.lineStart, lines: lineNo - firstLine, partial: w.end > w.lineStart, head }
  } finally {
    await w.close()
  }
}

const EXCHANGE_PREFIX_BYTES = Buffer.from(EXCHANGE_PREFIX)

/** The exchange of a journal line read back by its span (a line reltape wrote: prefix, exchange, closing brace). */
export function exchangeTextOfLine(line: Buffer): Buffer {
  const prefix = EXCHANGE_PREFIX_BYTES
  if (line.length > prefix.length && line[line.length - 1] === 0x7d && line.subarray(0, prefix.length).equals(prefix))
    return line.subarray(prefix.length, line.length - 1)
  const value = JSON.parse(line.toString('utf8')) as { exchange?: unknown }
  return Buffer.from(JSON.stringify(value.exchange))
}

function checkEntry(value: unknown, file: string, line: number): JournalEntry {
  const v = value as { t?: unknown; exchange?: unknown; identity?: { alias?: unknown; tokenHash?: unknown } }
  if (v?.t === 'exchange') return { t: 'exchange', exchange: parseExchange(v.exchange, `${file}:${line}`, 'exchange') }
  if (v?.t === 'identity' && typeof v.identity?.alias === 'string' && typeof v.identity.tokenHash === 'string')
    return { t: 'identity', identity: v.identity as Identity }
  throw new JournalError(file, line, 'expected an exchange or identity entry')
}
