/**
 * The one writer of a session. While recording, each exchange goes to the journal only (a line, written before
 * the event loop's next turn; the cost is flat in the session's size). `close` appends the journaled exchanges to
 * the session file after its last one (see session-append.ts), brings the index up to date, then removes the
 * journal: stopping costs what is new, not what is there.
 *
 * Opening takes what it needs from the reader (head, layout, last seq) and keeps no row and no exchange: a
 * recorder continuing a large session holds no more than one starting a new one.
 */
import { existsSync, unlinkSync } from 'node:fs'
import { newSession, type Exchange, type Identity, type Recording, type Session, type SessionHead } from '../model/session.js'
import { exchangeLine, JournalWriter, rewriteJournal, scanJournal } from './journal.js'
import type { LockHandle } from './lock.js'
import type { SessionPaths } from './paths.js'
import { appendToSessionFile, removeStaleTemps, type FileOnDisk, type JournalSpan } from './session-append.js'
import { appendFileRows, FROM_JOURNAL, rowOf, tailOf, type FileStamp, type SessionRow } from './session-index.js'
import { peekSession, SessionReader, type SessionPeek } from './session-reader.js'
import { IdentityBook } from './identity-book.js'

export class SessionWriter {
  #head: SessionHead
  #disk: FileOnDisk
  #fileStamp: FileStamp | null
  #fileCount: number
  /** Exchanges journaled since opening. */
  #journaled = 0
  #journal: JournalWriter | null = null
  /** The journal was rewritten for the stop (`rewriteJournal`): nothing more is journaled, `close` folds it. */
  #journalFinal = false
  #nextSeq: number
  readonly #identities: IdentityBook
  #closed = false

  private constructor(
    readonly paths: SessionPaths,
    readonly lock: LockHandle,
    session: SessionPeek,
  ) {
    this.#head = session.head
    this.#disk = session.fileOnDisk
    this.#fileStamp = session.fileStamp
    this.#fileCount = session.count
    this.#nextSeq = session.maxSeq + 1
    this.#identities = new IdentityBook(this.#head.identities)
  }

  /**
   * Starts writing a session whose lock is held: a journal left by a crash is folded into the file first (once,
   * here), a file cut short by a crash mid-stop is completed from it, and a new session gets its file at once.
   */
  static async start(paths: SessionPaths, lock: LockHandle, recording: Recording, warn: (message: string) => void): Promise<SessionWriter> {
    removeStaleTemps(paths.file)
    // A new session gets its file at once (empty), so that it is listed and viewed while it is recorded.
    if (!existsSync(paths.file) && !existsSync(paths.journal)) await appendToSessionFile(paths, null, newSession(paths.name, recording), [])
    // A session whose index is current and which no crash left unfinished is continued from the index's trailer:
    // starting costs the same for 10 exchanges as for 300,000.
    const peek = await peekSession(paths)
    if (peek) {
      const writer = new SessionWriter(paths, lock, peek)
      writer.#startJournal()
      return writer
    }
    let reader = await SessionReader.open(paths)
    if (reader.journalPartial) warn(`${paths.journal}: the last line was cut short by a crash and holds no complete exchange; skipped`)
    const disk = reader.fileOnDisk
    if (!disk || reader.hasJournal || !disk.layout.complete) {
      const head = disk ? reader.head : { ...newSession(paths.name, recording), identities: reader.head.identities }
      const spans = reader.rows.filter((r) => r.src === FROM_JOURNAL).map((row) => ({ row, journal: paths.journal }))
      const result = await appendToSessionFile(paths, disk, head, spans)
      if (existsSync(paths.journal)) unlinkSync(paths.journal)
      if (result.rewritten || !disk || !reader.fileStamp) {
        // A file written whole moved every offset: read once more, which indexes it again.
        reader = await SessionReader.open(paths)
      } else {
        await appendFileRows(paths.index, reader.fileStamp, result.rows, { head, file: { stamp: result.stamp, layout: result.layout, tail: await tailOf(paths.file, result.layout) } })
        // Everything the reader held is now in the file, where the append says: nothing to read again.
        const writer = new SessionWriter(paths, lock, { head, fileOnDisk: { head, layout: result.layout }, fileStamp: result.stamp, count: reader.count, maxSeq: reader.maxSeq })
        writer.#startJournal()
        return writer
      }
    }
    const writer = new SessionWriter(paths, lock, reader)
    writer.#startJournal()
    return writer
  }

  get name(): string {
    return this.paths.name
  }

  get identities(): readonly Identity[] {
    return this.#head.identities
  }

  get exchangeCount(): number {
    return this.#fileCount + this.#journaled
  }

  /** Reserves the next seq: call when a request starts, so that seq follows request order. */
  nextSeq(): number {
    return this.#nextSeq++
  }

  /** The identity for a token, created (and journaled) on first sight. */
  identityFor(token: string, label: string | null = null): Identity {
    const { identity, added } = this.#identities.of(token, label)
    if (added) {
      this.#head = { ...this.#head, identities: [...this.#head.identities, identity] }
      if (!this.#journalFinal) this.#journal?.append({ t: 'identity', identity })
    }
    return identity
  }

  /** Records a finished exchange: journaled (on disk before the next turn of the event loop, or at `flush()`). */
  append(exchange: Exchange): void {
    if (this.#closed) throw new Error(`session ${this.name} is closed; exchange ${exchange.seq} was not recorded`)
    if (!this.#journal || this.#journalFinal) throw new Error(`session ${this.name} has no journal open; exchange ${exchange.seq} was not recorded`)
    this.#journal.appendLine(exchangeLine(JSON.stringify(exchange)))
    this.#journaled++
    if (exchange.seq >= this.#nextSeq) this.#nextSeq = exchange.seq + 1
  }

  /** Writes what was appended in this turn to the journal now. */
  flush(): void {
    if (!this.#journalFinal) this.#journal?.flush()
  }

  /**
   * Rewrites the journal's lines before the stop (`transform` as store/journal.ts's `rewriteJournal`), once nothing
   * more will be recorded: the journal is synced and closed first, so no line can go to the file being replaced, and
   * appending afterwards is refused. `close` then folds the rewritten journal. Returns how many lines changed.
   */
  async rewriteJournal(transform: (line: string) => string | null): Promise<number> {
    if (this.#closed || !this.#journal) throw new Error(`session ${this.name} has no journal open to rewrite`)
    if (!this.#journalFinal) {
      this.#journal.sync()
      this.#journal.close()
      this.#journalFinal = true
    }
    return rewriteJournal(this.paths.journal, transform)
  }

  /** The whole session as readers see it now (file plus journal): for inspection and tests, not a hot path. */
  async read(): Promise<Session> {
    this.flush()
    const reader = await SessionReader.open(this.paths, { saveIndex: false })
    const exchanges: Exchange[] = []
    for await (const e of reader.exchanges()) exchanges.push(e)
    return { ...reader.head, exchanges }
  }

  #startJournal(): void {
    this.#journal = new JournalWriter(this.paths.journal)
    // The identities known so far start the journal: a stop cut short in the keys after the array loses none.
    for (const identity of this.#head.identities) this.#journal.append({ t: 'identity', identity })
  }

  /**
   * Appends what was journaled to the session file (fsynced), updates the index, removes the journal and releases
   * the lock. With nothing new, the file is left as it is. Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    const journal = this.#journal
    this.#journal = null
    try {
      if (!journal) return
      if (!this.#journalFinal) {
        journal.sync()
        journal.close()
      }
      const identitiesChanged = this.#disk === null || this.#head.identities.length !== this.#disk.head.identities.length
      if (this.#journaled > 0 || identitiesChanged) await this.#fold()
      if (existsSync(this.paths.journal)) unlinkSync(this.paths.journal)
    } finally {
      this.lock.release()
    }
  }

  async #fold(): Promise<void> {
    const rows: SessionRow[] = []
    await scanJournal(this.paths.journal, ({ offset, length, entry }) => {
      if (entry.t === 'exchange') rows.push(rowOf(entry.exchange, FROM_JOURNAL, offset, length))
    })
    rows.sort((a, b) => a.summary.seq - b.summary.seq)
    const spans: JournalSpan[] = rows.map((row) => ({ row, journal: this.paths.journal }))
    const before = this.#fileStamp
    const result = await appendToSessionFile(this.paths, this.#disk, this.#head, spans)
    if (!result.rewritten && before) await appendFileRows(this.paths.index, before, result.rows, { head: this.#head, file: { stamp: result.stamp, layout: result.layout, tail: await tailOf(this.paths.file, result.layout) } })
    this.#disk = { head: this.#head, layout: result.layout }
    this.#fileStamp = result.stamp
  }
}
