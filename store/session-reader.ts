/**
 * The one session reader: a session file plus its journal, read a line (an exchange) at a time, kept as rows
 * (list summary, replay key digest, byte offset) and never as bodies. Every part reads sessions through it:
 * `reltape sessions`, replay, the viewer, the recorder when it continues a session.
 *
 * Opening costs what the index costs when the index is current; what was appended since (a recorder's stop, a
 * growing journal) is read from where the index left off, and only a missing or replaced file is read whole.
 * Any exchange is read again by its offset when it is asked for.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { ReltapeError } from '../model/errors.js'
import { newSession, parseExchange, parseSessionHead, SessionFormatError, type Exchange, type Identity, type SessionHead } from '../model/session.js'
import { isErrorSummary, type SessionSummary } from '../model/summary.js'
import { ByteWindow } from './byte-window.js'
import { exchangeTextOfLine, scanJournal, type JournalEntry, type JournalScan } from './journal.js'
import type { SessionPaths } from './paths.js'
import { readFully } from './read-write-fully.js'
import {
  FROM_FILE,
  FROM_JOURNAL,
  INDEX_FORMAT,
  INDEX_REVISION,
  Interner,
  readIndexRows,
  readIndexTrailer,
  rowOf,
  sameStamp,
  stampOf,
  tailOf,
  writeIndex,
  appendJournalRows,
  type SavedIndex,
  type FileStamp,
  type IndexedFile,
  type IndexedJournal,
  type IndexTrailer,
  type SessionRow,
} from './session-index.js'
export { sameStamp, stampOf } from './session-index.js'
import { scanSessionFile, SessionScanError, type FileLayout, type FileScan } from './session-scan.js'

/** Thrown when neither a session file nor a journal exists. */
export class SessionNotFoundError extends ReltapeError<'SESSION_NOT_FOUND'> {
  constructor(
    readonly session: string,
    readonly dir: string,
    readonly available: string[],
  ) {
    super('SESSION_NOT_FOUND', { session, dir, available })
    this.name = 'SessionNotFoundError'
  }
}

/** Line and column (1-based) of a byte offset, counted by streaming the file: for error messages only. */
export async function lineColumnAt(file: string, offset: number): Promise<string> {
  const w = await ByteWindow.open(file, 0, offset)
  if (!w) return `byte ${offset}`
  let line = 1
  let lineStart = 0
  try {
    while (await w.more(w.end)) {
      for (let i = w.buf.indexOf(0x0a); i >= 0 && i < w.end; i = w.buf.indexOf(0x0a, i + 1)) {
        line++
        lineStart = w.base + i + 1
      }
    }
  } finally {
    await w.close()
  }
  return `line ${line}, column ${offset - lineStart + 1}`
}

/** The bytes at [offset, offset + length) of a file, read synchronously (replay answers in the turn a request arrives). */
function readSpanSync(file: string, offset: number, length: number): Buffer {
  const fd = openSync(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(length)
    let got = 0
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, offset + got)
      if (n === 0) break
      got += n
    }
    return buf.subarray(0, got)
  } finally {
    closeSync(fd)
  }
}

async function readSpan(file: string, offset: number, length: number): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const buf = Buffer.allocUnsafe(length)
    return buf.subarray(0, await readFully(handle, buf, offset))
  } finally {
    await handle.close()
  }
}

/** An exchange's stored JSON, parsed and checked to be the exchange the index said lies there. */
function parseExchangeAt(where: string, offset: number, seq: number, bytes: Buffer): Exchange {
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8'))
  } catch (e) {
    throw new SessionFormatError(where, `byte ${offset}`, `exchange ${seq} is not valid JSON there (${(e as Error).message}); was the file changed by another program?`)
  }
  const exchange = parseExchange(value, where, `exchange ${seq}`)
  if (exchange.seq !== seq) throw new SessionFormatError(where, `byte ${offset}`, `holds exchange ${exchange.seq} where ${seq} was indexed; was the file changed by another program?`)
  return exchange
}

/**
 * Where each exchange of a session lies (file or journal, offset, length), in typed arrays of about 17 bytes an
 * exchange: what a long-lived reader of a large session (replay) keeps instead of the rows.
 */
export class ExchangeLocator {
  readonly #paths: SessionPaths
  readonly #seqs: Float64Array
  readonly #offsets: Float64Array
  readonly #lengths: Uint32Array
  readonly #journal: Uint8Array

  constructor(paths: SessionPaths, rows: readonly SessionRow[]) {
    this.#paths = paths
    const sorted = [...rows].sort((a, b) => a.summary.seq - b.summary.seq)
    this.#seqs = Float64Array.from(sorted, (r) => r.summary.seq)
    this.#offsets = Float64Array.from(sorted, (r) => r.offset)
    this.#lengths = Uint32Array.from(sorted, (r) => r.length)
    this.#journal = Uint8Array.from(sorted, (r) => (r.src === FROM_JOURNAL ? 1 : 0))
  }

  get count(): number {
    return this.#seqs.length
  }

  /** One exchange, read synchronously by its offset. */
  exchangeSync(seq: number): Exchange {
    let lo = 0
    let hi = this.#seqs.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const at = this.#seqs[mid]!
      if (at === seq) {
        const file = this.#journal[mid] ? this.#paths.journal : this.#paths.file
        const bytes = readSpanSync(file, this.#offsets[mid]!, this.#lengths[mid]!)
        return parseExchangeAt(file, this.#offsets[mid]!, seq, this.#journal[mid] ? exchangeTextOfLine(bytes) : bytes)
      }
      if (at < seq) lo = mid + 1
      else hi = mid - 1
    }
    throw new RangeError(`session ${JSON.stringify(this.#paths.name)} has no exchange ${seq}`)
  }
}

export type ReaderOptions = {
  /** Write the index when it was missing or stale. @default true */
  saveIndex?: boolean
}

/** What a refresh found: rows not seen before (in seq order), or a reload when the file was replaced. */
export type ReaderChange = { added: SessionRow[]; reloaded: boolean }

/** Where a follower of a reader stands: `rowsSince` gives what was added after it. */
export type RowsMark = { readonly reading: number; readonly arrived: number }

/** The file part of a reader's state: the rows read from the file and what the file was. */
type FilePart = { indexed: IndexedFile | null; rows: SessionRow[]; head: SessionHead | null }
type JournalPart = { indexed: IndexedJournal | null; rows: SessionRow[]; identities: Identity[] }

type Known = { trailer: Omit<IndexTrailer, 'journalRowsAt'>; rows: SessionRow[] }

const SAVE_AFTER_JOURNAL_ROWS = 1000
/** Rows read together by exchangesOf: gaps under GAP_BYTES are read through, runs stop at RUN_BYTES. */
const GAP_BYTES = 64 * 1024
const RUN_BYTES = 4 << 20
const BATCH_EXCHANGES = 256

/** Numbers each whole reading of any reader, so a mark taken of one reading never matches another. */
let readings = 0

export class SessionReader {
  /**
   * Rows in seq order. Following a journal appends to this array; a whole reading, or a row older than the last
   * (an answer streamed to its end after later ones), makes a new one.
   */
  rows: SessionRow[] = []
  head: SessionHead
  errors = 0
  #bySeq = new Map<number, SessionRow>()
  #file: FilePart = { indexed: null, rows: [], head: null }
  #journal: JournalPart = { indexed: null, rows: [], identities: [] }
  #fileStamp: FileStamp | null = null
  #journalStamp: FileStamp | null = null
  readonly #intern = new Interner()
  /** Rows read from the journal (not from the index) since the index was last written. */
  #unsaved = 0
  /** Rows read from the file since the index was last written: worth writing the index for, however few. */
  #unsavedFile = 0
  /** This reading's number, and the rows added to it since, in the order they came (for `rowsSince`). */
  #reading = 0
  #arrived: SessionRow[] = []
  #refreshing: Promise<unknown> = Promise.resolve()
  /** The index this reader last wrote, while its rows are still those it holds (a whole reading forgets it). */
  #saved: SavedIndex | null = null

  readonly #options: ReaderOptions

  private constructor(
    readonly paths: SessionPaths,
    options: ReaderOptions,
  ) {
    this.#options = options
    this.head = newSession(paths.name, { tool: 'unknown', mode: 'forward', upstream: null })
  }

  /**
   * Opens a session (file plus journal) for reading; never writes the session (only its index).
   * @throws SessionNotFoundError, SessionFormatError (naming the file and where), JournalError (naming the line)
   */
  static async open(paths: SessionPaths, options: ReaderOptions = {}): Promise<SessionReader> {
    const reader = new SessionReader(paths, options)
    await reader.#load()
    return reader
  }

  /** The file's layout as last read (where the next exchange would be appended), or null without a file. */
  get layout(): FileLayout | null {
    return this.#file.indexed?.layout ?? null
  }

  get count(): number {
    return this.rows.length
  }

  /** The largest seq in the session, 0 when it is empty. */
  get maxSeq(): number {
    return this.rows.length ? this.rows[this.rows.length - 1]!.summary.seq : 0
  }

  /** The session file as it is on disk (its own head, without the journal's identities), or null when there is none. */
  get fileOnDisk(): { head: SessionHead; layout: FileLayout } | null {
    const { head, indexed } = this.#file
    return head && indexed ? { head, layout: indexed.layout } : null
  }

  /** The file's stamp as last read. */
  get fileStamp(): FileStamp | null {
    return this.#fileStamp
  }

  /** True when the journal's last line was cut short (being written, or torn by a crash). */
  journalPartial = false

  /** True when the journal holds exchanges (a recording under way, or one that crashed). */
  get hasJournal(): boolean {
    return this.#journalStamp !== null
  }

  row(seq: number): SessionRow | undefined {
    return this.#bySeq.get(seq)
  }

  summary(): SessionSummary {
    const updated = Math.max(this.#fileStamp?.mtimeMs ?? 0, this.#journalStamp?.mtimeMs ?? 0)
    return {
      name: this.paths.name,
      file: this.paths.file,
      exchanges: this.rows.length,
      errors: this.errors,
      identities: this.head.identities.length,
      createdAt: this.head.createdAt,
      updatedAt: updated ? new Date(updated).toISOString() : null,
    }
  }

  /** The stored JSON text of an exchange (as UTF-8 bytes), read by its offset. */
  async exchangeText(seq: number): Promise<Buffer> {
    const row = this.#rowOrThrow(seq)
    const bytes = await readSpan(row.src === FROM_FILE ? this.paths.file : this.paths.journal, row.offset, row.length)
    return row.src === FROM_FILE ? bytes : exchangeTextOfLine(bytes)
  }

  /** One exchange, read by its offset; a file changed since the last look is looked at again first. */
  async exchange(seq: number): Promise<Exchange> {
    try {
      return this.#parse(seq, await this.exchangeText(seq))
    } catch (e) {
      if (!(await this.#changedOnDisk())) throw e
      await this.refresh()
      return this.#parse(seq, await this.exchangeText(seq))
    }
  }

  /**
   * Several exchanges, in the order asked: rows that lie close together in a file are read with one read, so walking
   * a session (a diff, an export) costs its bytes, not a file opening per exchange.
   */
  async exchangesOf(seqs: readonly number[]): Promise<Exchange[]> {
    const wanted = seqs.map((seq) => ({ seq, row: this.#rowOrThrow(seq) }))
    const bytes = new Map<number, Buffer>()
    for (const src of [FROM_FILE, FROM_JOURNAL] as const) {
      const mine = wanted.filter((w) => w.row.src === src).sort((x, y) => x.row.offset - y.row.offset)
      if (mine.length === 0) continue
      const handle = await open(src === FROM_FILE ? this.paths.file : this.paths.journal, 'r')
      try {
        for (let i = 0; i < mine.length; ) {
          // One read for a run of rows with small gaps, up to a few megabytes.
          const start = mine[i]!.row.offset
          let j = i
          let end = start + mine[i]!.row.length
          while (j + 1 < mine.length && mine[j + 1]!.row.offset - end < GAP_BYTES && mine[j + 1]!.row.offset + mine[j + 1]!.row.length - start <= RUN_BYTES) {
            j++
            end = Math.max(end, mine[j]!.row.offset + mine[j]!.row.length)
          }
          const run = Buffer.allocUnsafe(end - start)
          await readFully(handle, run, start)
          for (let k = i; k <= j; k++) {
            const { seq, row } = mine[k]!
            const span = run.subarray(row.offset - start, row.offset - start + row.length)
            bytes.set(seq, src === FROM_FILE ? span : exchangeTextOfLine(span))
          }
          i = j + 1
        }
      } finally {
        await handle.close()
      }
    }
    return wanted.map(({ seq }) => this.#parse(seq, bytes.get(seq)!))
  }

  /** Every exchange in seq order, read a few hundred at a time. */
  async *exchanges(): AsyncGenerator<Exchange> {
    const seqs = this.rows.map((r) => r.summary.seq)
    for (let i = 0; i < seqs.length; i += BATCH_EXCHANGES) for (const e of await this.exchangesOf(seqs.slice(i, i + BATCH_EXCHANGES))) yield e
  }

  #rowOrThrow(seq: number): SessionRow {
    const row = this.#bySeq.get(seq)
    if (!row) throw new RangeError(`session ${JSON.stringify(this.paths.name)} has no exchange ${seq} (it holds ${this.rows.length})`)
    return row
  }

  #parse(seq: number, bytes: Buffer): Exchange {
    const row = this.#rowOrThrow(seq)
    return parseExchangeAt(row.src === FROM_FILE ? this.paths.file : this.paths.journal, row.offset, seq, bytes)
  }

  /** Where every exchange lies, in typed arrays: enough to read any of them, without the rows. */
  locator(): ExchangeLocator {
    return new ExchangeLocator(this.paths, this.rows)
  }

  /** Where this reader stands now, for `rowsSince`. */
  mark(): RowsMark {
    return { reading: this.#reading, arrived: this.#arrived.length }
  }

  /**
   * The rows added since `mark`, in the order they came, so that a follower pays for what is new; null when the
   * session was read whole since (or the mark is another reader's): then only comparing every row tells.
   */
  rowsSince(mark: RowsMark): SessionRow[] | null {
    return mark.reading === this.#reading ? this.#arrived.slice(mark.arrived) : null
  }

  async #changedOnDisk(): Promise<boolean> {
    return !sameStamp(await stampOf(this.paths.file), this.#fileStamp) || !sameStamp(await stampOf(this.paths.journal), this.#journalStamp)
  }

  /**
   * Brings the reader up to date with the disk: a grown journal is read from where it was left, an appended file
   * from its old end; a replaced file is read again (`reloaded`).
   */
  refresh(): Promise<ReaderChange> {
    // One at a time: two refreshes reading the journal from the same offset would add its rows twice.
    const next = this.#refreshing.catch(() => undefined).then(() => this.#refreshNow())
    this.#refreshing = next
    return next
  }

  async #refreshNow(): Promise<ReaderChange> {
    const fileStamp = await stampOf(this.paths.file)
    const journalStamp = await stampOf(this.paths.journal)
    if (sameStamp(fileStamp, this.#fileStamp) && sameStamp(journalStamp, this.#journalStamp)) return { added: [], reloaded: false }
    if (!fileStamp && !journalStamp) throw new SessionNotFoundError(this.paths.name, this.paths.file.replace(/\/[^/]*$/, ''), [])
    // A recording under way: the file as it was, the journal longer. Its new lines are read and their rows added.
    if (journalStamp && sameStamp(fileStamp, this.#fileStamp) && (await this.#journalGrew(journalStamp))) {
      const added = await this.#followJournal(journalStamp)
      if (added) return { added, reloaded: false }
    }
    const before = new Set(this.#bySeq.keys())
    const fileChanged = !sameStamp(fileStamp, this.#fileStamp)
    const fileWasAppended = fileChanged && this.#file.indexed ? await this.#appendedTo(this.#file.indexed, fileStamp) : false
    const reloaded = fileChanged && !fileWasAppended
    await this.#load()
    if (reloaded) return { added: [], reloaded: true }
    const added = this.rows.filter((r) => !before.has(r.summary.seq))
    return { added, reloaded: false }
  }

  /** True when the file is the indexed one with bytes appended after `appendAt` (a recorder's stop). */
  async #appendedTo(indexed: IndexedFile, stamp: FileStamp | null): Promise<boolean> {
    if (!stamp || stamp.ino !== indexed.stamp.ino || !indexed.layout.complete || stamp.size < indexed.layout.appendAt) return false
    try {
      return (await tailOf(this.paths.file, indexed.layout)) === indexed.tail
    } catch {
      return false
    }
  }

  async #load(): Promise<void> {
    const { paths } = this
    const fileStamp = await stampOf(paths.file)
    const journalStamp = await stampOf(paths.journal)
    if (!fileStamp && !journalStamp) throw new SessionNotFoundError(paths.name, paths.file.replace(/\/[^/]*$/, ''), [])
    // What this reader already holds is as good as an index; an index on disk is used when this reader holds nothing.
    let known: Known | null = null
    if (!this.#file.indexed && !this.#journal.indexed) {
      const found = await readIndexTrailer(paths.index)
      if (found) {
        const rows = await readIndexRows(paths.index, found.at, this.#intern)
        if (rows) known = { trailer: found.trailer, rows }
      }
    } else {
      known = {
        trailer: this.#trailer(),
        rows: [...this.#file.rows, ...this.#journal.rows],
      }
    }
    this.#file = await this.#loadFile(fileStamp, known, journalStamp !== null)
    this.#journal = await this.#loadJournal(journalStamp, known)
    this.#fileStamp = fileStamp
    this.#journalStamp = journalStamp
    this.#merge()
    // A growing journal is followed in memory; the index is written again once it is worth the write.
    if ((this.#unsavedFile > 0 || this.#unsaved >= SAVE_AFTER_JOURNAL_ROWS) && this.#options.saveIndex !== false) await this.saveIndex()
  }

  async #loadFile(stamp: FileStamp | null, known: Known | null, hasJournal: boolean): Promise<FilePart> {
    const file = this.paths.file
    if (!stamp) return { indexed: null, rows: [], head: null }
    const indexed = known?.trailer.file
    if (indexed && sameStamp(indexed.stamp, stamp)) {
      return { indexed, rows: known.rows.filter((r) => r.src === FROM_FILE), head: known.trailer.head }
    }
    if (indexed && known && (await this.#appendedTo(indexed, stamp))) {
      const rows = known.rows.filter((r) => r.src === FROM_FILE)
      const scan = await this.#scanFile({ appendAt: indexed.layout.appendAt, arrayStart: indexed.layout.arrayStart, count: indexed.layout.count }, rows, hasJournal)
      const head = { ...known.trailer.head, ...(scan.head ?? {}) } as SessionHead
      return { indexed: { stamp, layout: scan.layout, tail: await tailOf(file, scan.layout) }, rows, head: this.#checkHead(head) }
    }
    const rows: SessionRow[] = []
    const scan = await this.#scanFile(undefined, rows, hasJournal)
    const head = this.#checkHead(scan.head ?? {})
    return { indexed: { stamp, layout: scan.layout, tail: await tailOf(file, scan.layout) }, rows, head }
  }

  #checkHead(head: Record<string, unknown>): SessionHead {
    // A file torn after its array lost the identities written there: the journal has them again.
    if (head.identities === undefined) head.identities = []
    return parseSessionHead(head, this.paths.file)
  }

  async #scanFile(resume: { appendAt: number; arrayStart: number; count: number } | undefined, rows: SessionRow[], hasJournal: boolean): Promise<FileScan> {
    const file = this.paths.file
    let scan: FileScan | null
    this.#unsavedFile++ // even an empty file: its index says so, and the writer's stop appends to that index
    try {
      scan = await scanSessionFile(
        file,
        ({ offset, length, value, index }) => {
          const exchange = parseExchange(value, file, `$.exchanges[${index}]`)
          rows.push(rowOf(exchange, FROM_FILE, offset, length, this.#intern))
          this.#unsavedFile++
        },
        resume ? { resume } : {},
      )
    } catch (e) {
      if (e instanceof SessionScanError) throw new SessionFormatError(file, await lineColumnAt(file, e.offset), e.problem)
      throw e
    }
    if (!scan) throw new SessionNotFoundError(this.paths.name, file.replace(/\/[^/]*$/, ''), [])
    // A file that ends before its JSON does is a stop cut short, whose exchanges the journal still holds; without
    // a journal it is damage to report, not to read past.
    if (!scan.layout.complete && !hasJournal)
      throw new SessionFormatError(file, await lineColumnAt(file, scan.layout.size), 'not valid JSON: the file ends before the JSON does (truncated?)')
    // The identities of a file torn after its array were there: the next append writes them there again.
    if (!scan.layout.complete && scan.head && !('identities' in scan.head) && !scan.layout.keysAfter.includes('identities')) scan.layout.keysAfter.push('identities')
    return scan
  }

  async #loadJournal(stamp: FileStamp | null, known: Known | null): Promise<JournalPart> {
    if (!stamp) return { indexed: null, rows: [], identities: [] }
    const indexed = known?.trailer.journal
    let rows: SessionRow[] = []
    let identities: Identity[] = []
    let from = 0
    let lines = 0
    let head = ''
    if (indexed && indexed.ino === stamp.ino && stamp.size >= indexed.end && (await this.#journalStartsWith(indexed.head))) {
      rows = known.rows.filter((r) => r.src === FROM_JOURNAL)
      identities = known.trailer.head.identities
      from = indexed.end
      lines = indexed.lines
      head = indexed.head
    }
    const scan = await this.#readJournal(from, lines, rows, identities)
    if (!scan) return { indexed: null, rows: [], identities: [] }
    return { indexed: { ino: stamp.ino, end: scan.end, lines: lines + scan.lines, head: from === 0 ? scan.head.toString('base64') : head }, rows, identities }
  }

  /** Reads the journal from byte `from` (its line `lines + 1`) to its last whole line, into `rows` and `identities`. */
  async #readJournal(from: number, lines: number, rows: SessionRow[], identities: Identity[]): Promise<JournalScan | null> {
    const scan = await scanJournal(
      this.paths.journal,
      ({ offset, length, entry }: { offset: number; length: number; entry: JournalEntry }) => {
        if (entry.t === 'exchange') {
          rows.push(rowOf(entry.exchange, FROM_JOURNAL, offset, length, this.#intern))
          this.#unsaved++
        } else identities.push(entry.identity)
      },
      from,
      lines + 1,
    )
    if (scan) this.journalPartial = scan.partial
    return scan
  }

  /** True when the journal is the one read before, only longer (or the first one since the reader looked). */
  async #journalGrew(stamp: FileStamp): Promise<boolean> {
    const indexed = this.#journal.indexed
    if (!indexed) return true
    return indexed.ino === stamp.ino && stamp.size >= indexed.end && (await this.#journalStartsWith(indexed.head))
  }

  /**
   * Reads the journal on from where it was read to, and adds what is new: the rows held are not walked again, so a
   * viewer following a recording pays for its new exchanges, not for the session. Null when the journal went meanwhile.
   */
  async #followJournal(stamp: FileStamp): Promise<SessionRow[] | null> {
    const { indexed, rows, identities } = this.#journal
    const from = indexed?.end ?? 0
    const lines = indexed?.lines ?? 0
    const newRows: SessionRow[] = []
    const newIdentities: Identity[] = []
    // Read into new arrays: a line that is not valid leaves the reader as it was.
    const scan = await this.#readJournal(from, lines, newRows, newIdentities)
    if (!scan) return null
    for (const r of newRows) rows.push(r)
    this.#journal = {
      indexed: { ino: stamp.ino, end: scan.end, lines: lines + scan.lines, head: from === 0 ? scan.head.toString('base64') : indexed!.head },
      rows,
      // A new array: the one held may be the head's own.
      identities: newIdentities.length > 0 ? [...identities, ...newIdentities] : identities,
    }
    this.#journalStamp = stamp
    // Without a file, the head's time comes from the journal's: it is made again as the whole reading does.
    if (newIdentities.length > 0 || !this.#file.head) this.#mergeHead()
    const added = this.#addRows(newRows)
    if (this.#unsaved >= SAVE_AFTER_JOURNAL_ROWS && this.#options.saveIndex !== false) await this.saveIndex()
    return added
  }

  async #journalStartsWith(head: string): Promise<boolean> {
    const expected = Buffer.from(head, 'base64')
    try {
      return (await readSpan(this.paths.journal, 0, expected.length)).equals(expected)
    } catch {
      return false
    }
  }

  /** The file's head with the journal's identities it does not hold; a session without a file gets a new head. */
  #mergeHead(): void {
    const head = this.#file.head ?? newSession(this.paths.name, { tool: 'unknown', mode: 'forward', upstream: null }, new Date(this.#journalStamp?.mtimeMs ?? Date.now()).toISOString())
    const aliases = new Set(head.identities.map((i) => i.alias))
    const identities = [...head.identities]
    for (const id of this.#journal.identities) {
      if (!aliases.has(id.alias)) {
        aliases.add(id.alias)
        identities.push(id)
      }
    }
    this.head = { ...head, identities }
  }

  /** Rows of the file, then the journal's that the file does not hold (a stop cut short leaves both), by seq. */
  #merge(): void {
    this.#mergeHead()
    const bySeq = new Map<number, SessionRow>()
    const rows: SessionRow[] = []
    for (const r of this.#file.rows) {
      bySeq.set(r.summary.seq, r)
      rows.push(r)
    }
    for (const r of this.#journal.rows) {
      if (bySeq.has(r.summary.seq)) continue
      bySeq.set(r.summary.seq, r)
      rows.push(r)
    }
    let sorted = true
    for (let i = 1; i < rows.length && sorted; i++) if (rows[i - 1]!.summary.seq > rows[i]!.summary.seq) sorted = false
    if (!sorted) rows.sort((a, b) => a.summary.seq - b.summary.seq)
    this.rows = rows
    this.#bySeq = bySeq
    let errors = 0
    for (const r of rows) if (isErrorSummary(r.summary)) errors++
    this.errors = errors
    this.#reading = ++readings
    this.#arrived = []
    this.#saved = null
  }

  /**
   * Adds the rows of seqs not held yet (a journal row whose seq the file holds is that exchange: a stop cut short)
   * and returns them in seq order. They go after the last row, unless one is older than it (recorded when its
   * streamed answer ended, after later ones): then the rows are merged into a new array.
   */
  #addRows(rows: readonly SessionRow[]): SessionRow[] {
    const added: SessionRow[] = []
    for (const r of rows) {
      if (this.#bySeq.has(r.summary.seq)) continue
      this.#bySeq.set(r.summary.seq, r)
      added.push(r)
      if (isErrorSummary(r.summary)) this.errors++
    }
    added.sort((a, b) => a.summary.seq - b.summary.seq)
    if (added.length > 0 && added[0]!.summary.seq < this.maxSeq) this.rows = mergeBySeq(this.rows, added)
    else for (const r of added) this.rows.push(r)
    for (const r of added) this.#arrived.push(r)
    return added
  }

  #trailer(): Omit<IndexTrailer, 'journalRowsAt'> {
    return {
      index: INDEX_FORMAT,
      revision: INDEX_REVISION,
      head: this.head,
      file: this.#file.indexed,
      journal: this.#journal.indexed,
      fileRows: this.#file.rows.length,
      fileErrors: this.#file.rows.reduce((n, r) => n + (isErrorSummary(r.summary) ? 1 : 0), 0),
      journalRows: this.#journal.rows.length,
      exchanges: this.rows.length,
      errors: this.errors,
      maxSeq: this.maxSeq,
    }
  }

  /**
   * Writes the index for what this reader holds (best effort: a read-only directory is no error). Following a
   * journal, only its new rows are written, after those of the index it wrote last, when that index is still there:
   * a long recording is not encoded again at every save.
   */
  async saveIndex(): Promise<void> {
    const trailer = this.#trailer()
    const saved = this.#saved
    const appended =
      saved !== null &&
      this.#unsavedFile === 0 &&
      this.#journal.rows.length > saved.journalRows &&
      (await appendJournalRows(this.paths.index, saved, this.#journal.rows.slice(saved.journalRows), trailer))
    const error = appended ? null : await writeIndex(this.paths.index, [...this.#file.rows, ...this.#journal.rows], trailer)
    if (error) return
    this.#unsaved = this.#unsavedFile = 0
    this.#saved = { file: trailer.file, journal: trailer.journal, journalRows: trailer.journalRows }
  }
}

/** Two lists of rows in seq order, as one. */
function mergeBySeq(a: readonly SessionRow[], b: readonly SessionRow[]): SessionRow[] {
  const out: SessionRow[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]!.summary.seq < b[j]!.summary.seq)) out.push(a[i++]!)
    else out.push(b[j++]!)
  }
  return out
}

/** What a writer needs of a session to continue it: its head, its file's layout, its count and last seq. */
export type SessionPeek = {
  head: SessionHead
  fileOnDisk: { head: SessionHead; layout: FileLayout } | null
  fileStamp: FileStamp | null
  count: number
  maxSeq: number
}

/**
 * A session's head, layout and counts from its index's trailer alone, without reading a row: when the index is
 * current for the file, there is no journal, and the file is whole. Null otherwise (then open a reader).
 */
export async function peekSession(paths: SessionPaths): Promise<SessionPeek | null> {
  const current = await currentTrailer(paths)
  if (!current || !current.fileStamp || current.journalStamp) return null
  const { trailer, fileStamp } = current
  if (!trailer.file!.layout.complete) return null
  return { head: trailer.head, fileOnDisk: { head: trailer.head, layout: trailer.file!.layout }, fileStamp, count: trailer.exchanges, maxSeq: trailer.maxSeq }
}

/**
 * The index's trailer when it describes the file and the journal exactly as they are now (no row needs reading),
 * with their stamps; null when the index is missing or stale.
 */
async function currentTrailer(paths: SessionPaths): Promise<{ trailer: Omit<IndexTrailer, 'journalRowsAt'>; fileStamp: FileStamp | null; journalStamp: FileStamp | null } | null> {
  const [fileStamp, journalStamp, found] = await Promise.all([stampOf(paths.file), stampOf(paths.journal), readIndexTrailer(paths.index)])
  if (!found || (!fileStamp && !journalStamp)) return null
  const { trailer } = found
  if (!sameStamp(trailer.file?.stamp, fileStamp)) return null
  if (journalStamp || trailer.journal) {
    if (!journalStamp || !trailer.journal || trailer.journal.ino !== journalStamp.ino || trailer.journal.end !== journalStamp.size) return null
  }
  return { trailer, fileStamp, journalStamp }
}

/**
 * The summary of a session from its index alone, when the index is current (no row is read): what listing
 * costs. Null when the index is missing or stale; then open a reader.
 */
export async function summaryFromIndex(paths: SessionPaths): Promise<SessionSummary | null> {
  const current = await currentTrailer(paths)
  if (!current) return null
  const { trailer, fileStamp, journalStamp } = current
  const updated = Math.max(fileStamp?.mtimeMs ?? 0, journalStamp?.mtimeMs ?? 0)
  return {
    name: paths.name,
    file: paths.file,
    exchanges: trailer.exchanges,
    errors: trailer.errors,
    identities: trailer.head.identities.length,
    createdAt: trailer.head.createdAt,
    updatedAt: updated ? new Date(updated).toISOString() : null,
  }
}

