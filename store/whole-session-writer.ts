/**
 * A new session written whole, in one pass, with its index: for a session that nobody reads or waits on until it
 * is complete (an import, written into a hidden folder and linked into place when whole). It needs neither the
 * journal nor the lock of SessionWriter: no client waits for an exchange to be on disk, and a failure leaves only
 * the hidden folder, which the caller removes. Each exchange is serialised once and written once; its index row
 * is made from the exchange at hand, at the offset it is written to, so nothing is read back.
 *
 * The bytes are those session-append.ts writes (the head, one exchange per line, `identities` after the array),
 * so readers, and a recorder that continues the session later, take it as any session file. The file is created
 * owner-only and exclusively; bytes are gathered in a buffer and written by the thread pool while the next
 * buffer fills, and `close` syncs them once before the index is written.
 */
import { close as closeFd, fstat, fsync } from 'node:fs'
import { newSession, type Exchange, type Identity, type Recording, type SessionHead } from '../model/session.js'
import { isErrorSummary } from '../model/summary.js'
import { exchangeTextParts, type KnownBodyText } from './exchange-text.js'
import { IdentityBook } from './identity-book.js'
import type { SessionPaths } from './paths.js'
import { createPrivateFile } from './private-file.js'
import { writeFully } from './read-write-fully.js'
import { BETWEEN, closingText, FIRST, KEYS_AFTER, openingText } from './session-append.js'
import { FROM_FILE, INDEX_FORMAT, INDEX_REVISION, rowOf, stampOfStats, tailOf, writeIndex, type FileStamp, type SessionRow } from './session-index.js'
import type { FileLayout } from './session-scan.js'

/** Bytes gathered before a write; two such buffers take turns (one filled while the other is written). */
const BUFFER_BYTES = 4 << 20

/** A failure of the file system, naming the file (a write to a descriptor names none). */
function onFile(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException
  return Object.assign(new Error(`${file}: ${err.message}`, { cause: e }), { code: err.code })
}

const syncFd = (fd: number) => new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())))
const closeFdAsync = (fd: number) => new Promise<void>((resolve, reject) => closeFd(fd, (e) => (e ? reject(e) : resolve())))
const statFd = (fd: number) =>
  new Promise<FileStamp>((resolve, reject) => fstat(fd, (e, s) => (e ? reject(e) : resolve(stampOfStats(s)))))

export class WholeSessionWriter {
  #fd: number | null
  #head: SessionHead
  readonly #identities = new IdentityBook()
  readonly #rows: SessionRow[] = []
  #errors = 0
  #nextSeq = 1
  #maxSeq = 0
  /** Just past the array's `[`, and just past the last exchange written. */
  readonly #arrayStart: number
  #appendAt: number
  /** The buffer being filled, where its first byte goes in the file, and how much of it is filled. */
  #buf = Buffer.allocUnsafe(BUFFER_BYTES)
  #spare = Buffer.allocUnsafe(BUFFER_BYTES)
  #bufAt = 0
  #used = 0
  /** Every write started so far, in order; rejected with the first failure. */
  #writing: Promise<void> = Promise.resolve()
  #done = false

  private constructor(
    readonly paths: SessionPaths,
    head: SessionHead,
    fd: number,
  ) {
    this.#head = head
    this.#fd = fd
    const opening = openingText(head)
    opening.copy(this.#buf)
    this.#used = opening.length
    this.#arrayStart = this.#appendAt = opening.length
  }

  /**
   * Creates the session file (it must not exist; a link there is refused) and starts it with the head.
   * @throws PlantedLinkError, or the file system's error (EEXIST when the file exists)
   */
  static create(paths: SessionPaths, recording: Recording): WholeSessionWriter {
    const { exchanges: _, ...head } = newSession(paths.name, recording)
    return new WholeSessionWriter(paths, head, createPrivateFile(paths.file, 0))
  }

  /** The next seq, for an exchange that brings none of its own. */
  nextSeq(): number {
    return this.#nextSeq++
  }

  /** The identity for a token, created on first sight (written with the head's keys after the array). */
  identityFor(token: string, label: string | null = null): Identity {
    const { identity, added } = this.#identities.of(token, label)
    if (added) this.#head = { ...this.#head, identities: [...this.#head.identities, identity] }
    return identity
  }

  /**
   * Writes an exchange after the last one. `known` gives `JSON.stringify` of a body's `json` where the caller made
   * it already (see exchange-text.ts). Awaited before the next append: it waits when both buffers are full.
   */
  async append(exchange: Exchange, known: KnownBodyText = {}): Promise<void> {
    if (this.#done || this.#fd === null) throw new Error(`${this.paths.file}: closed; exchange ${exchange.seq} was not written`)
    const parts = exchangeTextParts(exchange, known)
    await this.#put(this.#rows.length === 0 ? FIRST : BETWEEN)
    // The file offset of the next byte, whether the buffer is handed over meanwhile or not.
    const offset = this.#bufAt + this.#used
    for (const part of parts) await this.#putText(part)
    const length = this.#bufAt + this.#used - offset
    this.#appendAt = offset + length
    const row = rowOf(exchange, FROM_FILE, offset, length)
    this.#rows.push(row)
    if (isErrorSummary(row.summary)) this.#errors++
    if (exchange.seq > this.#maxSeq) this.#maxSeq = exchange.seq
    if (exchange.seq >= this.#nextSeq) this.#nextSeq = exchange.seq + 1
  }

  /** A text's UTF-8 bytes after those put before. */
  async #putText(text: string): Promise<void> {
    // UTF-8 takes at most 3 bytes per UTF-16 unit: the exact length is counted only when that bound does not fit.
    if (text.length * 3 > this.#buf.length - this.#used) {
      const need = Buffer.byteLength(text)
      if (need > this.#buf.length - this.#used) await this.#flush()
      if (need > this.#buf.length) return this.#put(Buffer.from(text))
    }
    this.#used += this.#buf.write(text, this.#used)
  }

  /** Bytes after those put before: into the buffer, or, larger than a buffer, written as they are. */
  async #put(bytes: Buffer): Promise<void> {
    if (bytes.length > this.#buf.length - this.#used) await this.#flush()
    if (bytes.length > this.#buf.length) {
      await this.#started(bytes, this.#bufAt)
      this.#bufAt += bytes.length
      return
    }
    bytes.copy(this.#buf, this.#used)
    this.#used += bytes.length
  }

  /**
   * Starts writing bytes after every write started before, and returns the writes before it: awaited, they bound
   * what is in flight. A failure is kept in #writing for the next flush or close to throw.
   */
  #started(bytes: Buffer, position: number): Promise<void> {
    const fd = this.#fd!
    const previous = this.#writing
    this.#writing = previous.then(async () => {
      try {
        await writeFully(fd, bytes, position)
      } catch (e) {
        throw onFile(this.paths.file, e)
      }
    })
    this.#writing.catch(() => {}) // seen when #writing is awaited, not an unhandled rejection meanwhile
    return previous
  }

  /** Hands the filled buffer to the thread pool and takes the other one, once its own write is done. */
  async #flush(): Promise<void> {
    if (this.#used === 0) return
    const previous = this.#started(this.#buf.subarray(0, this.#used), this.#bufAt)
    this.#bufAt += this.#used
    this.#used = 0
    ;[this.#buf, this.#spare] = [this.#spare, this.#buf]
    // The buffer taken now was handed over by an earlier write: free once the writes before this one are done.
    await previous
  }

  /**
   * Ends the file (the array, the identities), syncs it to the disk, and writes its index, which describes the
   * file as it now is: a reader opening the session takes its rows from the index without reading the file.
   */
  async close(): Promise<void> {
    if (this.#done) return
    const fd = this.#fd
    if (fd === null) throw new Error(`${this.paths.file}: already discarded`)
    this.#done = true
    await this.#put(closingText(this.#head, KEYS_AFTER))
    await this.#flush()
    await this.#writing
    const stamp = await syncFd(fd)
      .then(() => statFd(fd))
      .catch((e: unknown) => Promise.reject(onFile(this.paths.file, e)))
    this.#fd = null
    await closeFdAsync(fd)
    const layout: FileLayout = { size: stamp.size, arrayStart: this.#arrayStart, appendAt: this.#appendAt, count: this.#rows.length, keysAfter: [...KEYS_AFTER], complete: true }
    // Best effort, as every index: without one, the first reader builds it.
    await writeIndex(this.paths.index, this.#rows, {
      index: INDEX_FORMAT,
      revision: INDEX_REVISION,
      head: this.#head,
      file: { stamp, layout, tail: await tailOf(this.paths.file, layout) },
      journal: null,
      fileRows: this.#rows.length,
      fileErrors: this.#errors,
      journalRows: 0,
      exchanges: this.#rows.length,
      maxSeq: this.#maxSeq,
      errors: this.#errors,
    })
  }

  /** After a failure: waits for the writes under way and closes the file, which the caller removes. Safe to call twice. */
  async discard(): Promise<void> {
    this.#done = true
    const fd = this.#fd
    if (fd === null) return
    this.#fd = null
    await this.#writing.catch(() => {})
    await closeFdAsync(fd).catch(() => {})
  }
}
