/**
 * The index beside a session, `.<name>.index`: one line per exchange (its seq, where its JSON lies in the file or
 * the journal, its list row, its replay key's digest), then a trailer line with the head, the counts, and the
 * size, mtime and inode of the file and journal it was built from. It is a cache: it never holds a body, it is
 * rebuilt when missing or stale, and deleting it loses nothing. Listing a session reads the trailer alone;
 * opening one reads the rows, never the bodies.
 */
import { open, stat, type FileHandle } from 'node:fs/promises'
import { SessionFormatError, type Exchange, type SessionHead } from '../model/session.js'
import { isErrorSummary, summarize, type ExchangeSummary } from '../model/summary.js'
import { ByteWindow } from './byte-window.js'
import { replaceFile } from './private-file.js'
import { readFully, writeFully } from './read-write-fully.js'
import { defaultKeyDigest } from './request-key.js'
import type { FileLayout } from './session-scan.js'

export const INDEX_FORMAT = 'reltape.index/1'
/** Bumped whenever the key of a request or the row changes meaning: an index built by another version is rebuilt. */
export const INDEX_REVISION = 2

/** Where an exchange's JSON lies: in the session file (the exchange itself) or the journal (its whole line). */
export const FROM_FILE = 0
export const FROM_JOURNAL = 1
export type RowSource = typeof FROM_FILE | typeof FROM_JOURNAL

/** The recorded response carries `Access-Control-*` headers (replay answers preflights with them). */
export const ROW_CORS = 1
/** A body of the exchange was cut by the recorder's limit. */
export const ROW_TRUNCATED = 2

/** One exchange as the index and every reader hold it: its list row and where to read the rest. */
export type SessionRow = {
  summary: ExchangeSummary
  src: RowSource
  offset: number
  length: number
  /** The digest of its replay key under the default rules; null when replay must judge it itself. */
  key: string | null
  flags: number
}

export type FileStamp = { size: number; mtimeMs: number; ino: number }

/** The size, mtime and inode of a session's file or journal; null when there is none (or there cannot be one). */
export async function stampOf(file: string): Promise<FileStamp | null> {
  let s
  try {
    s = await stat(file)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    // A name too long for the file system: that file cannot exist (a journal beside a 250-character session name).
    if (code === 'ENOENT' || code === 'ENAMETOOLONG') return null
    if (code === 'ELOOP') throw new SessionFormatError(file, '$', 'is a symbolic link that leads back to itself (a loop), not a session file')
    throw e
  }
  if (!s.isFile()) throw new SessionFormatError(file, '$', s.isDirectory() ? 'is a directory, not a session file' : 'is not a regular file')
  return stampOfStats(s)
}

/** The stamp of a file from its stats (a stat by name, or of an open handle). */
export function stampOfStats(s: { size: number; mtimeMs: number; ino: number }): FileStamp {
  return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino }
}

export function sameStamp(a: FileStamp | null | undefined, b: FileStamp | null | undefined): boolean {
  if (!a || !b) return !a && !b
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino
}

/** The session file as the index saw it: enough to read only what was appended since. */
export type IndexedFile = {
  stamp: FileStamp
  layout: FileLayout
  /** The bytes just before `layout.appendAt` (base64): an append keeps them, a rewrite does not. */
  tail: string
}

/** The journal as the index saw it: read on from `end` while its inode and first bytes stay the same. */
export type IndexedJournal = { ino: number; end: number; lines: number; head: string }

export type IndexTrailer = {
  index: typeof INDEX_FORMAT
  revision: number
  head: SessionHead
  file: IndexedFile | null
  journal: IndexedJournal | null
  fileRows: number
  /** Errors among the file's rows (the journal's are counted again on reading it). */
  fileErrors: number
  journalRows: number
  /** Where the journal's rows start in the index: a writer that folded the journal replaces them from there. */
  journalRowsAt: number
  /** Exchanges, once the journal's are merged with the file's. */
  exchanges: number
  /** The largest seq: where a writer continuing the session goes on. */
  maxSeq: number
  errors: number
}


/**
 * One copy of each repeated string (method, path, host, content type, key…) across a session's rows: they repeat
 * from row to row, and a reader holding 100,000 rows holds each once. Bounded: past its size it stops collecting.
 */
export class Interner {
  readonly #seen = new Map<string, string>()
  readonly #lists = new Map<string, string[]>()

  constructor(private readonly max = 100_000) {}

  s<T extends string | null>(value: T): T {
    if (value === null) return value
    const known = this.#seen.get(value)
    if (known !== undefined) return known as T
    if (this.#seen.size < this.max) this.#seen.set(value, value)
    return value
  }

  list(values: string[]): string[] {
    const key = values.join('\n')
    const known = this.#lists.get(key)
    if (known) return known
    if (this.#lists.size < this.max) this.#lists.set(key, values)
    return values
  }

  /** The summary with its repeated strings shared. */
  summary(x: ExchangeSummary): ExchangeSummary {
    return {
      ...x,
      method: this.s(x.method),
      path: this.s(x.path),
      host: this.s(x.host),
      errorCode: this.s(x.errorCode),
      transportError: this.s(x.transportError),
      identity: this.s(x.identity),
      contentType: this.s(x.contentType),
      relsTypes: this.list(x.relsTypes),
    }
  }
}

const NO_INTERNING = { summary: (x: ExchangeSummary) => x, s: <T>(v: T) => v }

export function rowOf(exchange: Exchange, src: RowSource, offset: number, length: number, intern: Pick<Interner, 'summary' | 's'> = NO_INTERNING): SessionRow {
  const response = exchange.response
  let flags = 0
  if (response?.headers.some(([n]) => /^access-control-/i.test(n))) flags |= ROW_CORS
  if (response?.body.truncated || exchange.request.body.truncated) flags |= ROW_TRUNCATED
  return { summary: intern.summary(summarize(exchange)), src, offset, length, key: intern.s(defaultKeyDigest(exchange)), flags }
}

function encodeRow(r: SessionRow): string {
  const s = r.summary
  return JSON.stringify([
    r.src, r.offset, r.length, r.key, r.flags,
    s.seq, s.id, s.startedAt, s.method, s.path, s.host, s.status, s.ok, s.errorCode, s.transportError, s.identity,
    s.durationMs, s.requestSize, s.responseSize, s.resultCount, s.relsTypes, s.contentType,
  ])
}

function decodeRow(a: unknown[], intern: Interner): SessionRow {
  const [src, offset, length, key, flags, seq, id, startedAt, method, path, host, status, ok, errorCode, transportError, identity, durationMs, requestSize, responseSize, resultCount, relsTypes, contentType] = a as [
    RowSource, number, number, string | null, number, number, string, string, string, string, string, number | null, boolean | null,
    string | null, string | null, string | null, number, number, number, number | null, string[], string | null,
  ]
  if (typeof seq !== 'number' || typeof offset !== 'number' || !Array.isArray(relsTypes)) throw new Error('not an index row')
  return {
    src, offset, length, key: intern.s(key), flags,
    summary: {
      seq, id, startedAt, method: intern.s(method), path: intern.s(path), host: intern.s(host), status, ok, errorCode: intern.s(errorCode),
      transportError: intern.s(transportError), identity: intern.s(identity), durationMs, requestSize, responseSize, resultCount,
      relsTypes: intern.list(relsTypes), contentType: intern.s(contentType),
    },
  }
}

/** The trailer of an index and where it starts, or null when there is no usable index (missing, torn, older). */
export async function readIndexTrailer(file: string): Promise<{ trailer: IndexTrailer; at: number } | null> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch {
    return null
  }
  try {
    return await trailerIn(handle)
  } finally {
    await handle.close()
  }
}

/** readIndexTrailer of an open index. */
async function trailerIn(handle: FileHandle): Promise<{ trailer: IndexTrailer; at: number } | null> {
  try {
    const { size } = await handle.stat()
    if (size < 2) return null
    for (let span = Math.min(size, 64 * 1024); ; span = Math.min(size, span * 4)) {
      const buf = Buffer.allocUnsafe(span)
      if ((await readFully(handle, buf, size - span)) < span) return null
      if (buf[span - 1] !== 0x0a) return null
      const start = buf.lastIndexOf(0x0a, span - 2) + 1
      if (start === 0 && span < size) continue
      const trailer = JSON.parse(buf.toString('utf8', start, span - 1)) as IndexTrailer
      if (trailer.index !== INDEX_FORMAT || trailer.revision !== INDEX_REVISION) return null
      return { trailer, at: size - span + start }
    }
  } catch {
    return null
  }
}

/** The rows of an index (file rows, then journal rows), read a line at a time; null when it is unusable. */
export async function readIndexRows(file: string, trailerAt: number, intern: Interner): Promise<SessionRow[] | null> {
  const w = await ByteWindow.open(file, 0, trailerAt).catch(() => null)
  if (!w) return null
  const rows: SessionRow[] = []
  try {
    for await (const nl of w.lines()) rows.push(decodeRow(JSON.parse(w.buf.toString('utf8', w.lineStart, nl)) as unknown[], intern))
    return w.lineStart === w.end ? rows : null
  } catch {
    return null
  } finally {
    await w.close()
  }
}

/**
 * Writes an index: a private temporary file renamed over the old one, so a reader sees the old index or the new,
 * never half of one. Best effort: an index that cannot be written (a read-only directory) only makes the next
 * opening slower, so failures are returned, not thrown.
 */
export async function writeIndex(file: string, rows: readonly SessionRow[], trailer: Omit<IndexTrailer, 'journalRowsAt'>): Promise<Error | null> {
  try {
    await replaceFile(file, async (handle) => {
      const journalRowsAt = await writeRows(handle, rows.filter((r) => r.src === FROM_FILE), 0)
      const at = await writeRows(handle, rows.filter((r) => r.src === FROM_JOURNAL), journalRowsAt)
      await writeFully(handle, Buffer.from(JSON.stringify({ ...trailer, journalRowsAt }) + '\n'), at)
    }, { durable: false })
    return null
  } catch (e) {
    return e as Error
  }
}

/** Writes rows as index lines at `at`, a few thousand per write; returns the offset after them. */
async function writeRows(handle: FileHandle, rows: readonly SessionRow[], at: number): Promise<number> {
  for (let i = 0; i < rows.length; i += 2000) at += await writeFully(handle, Buffer.from(rows.slice(i, i + 2000).map(encodeRow).join('\n') + '\n'), at)
  return at
}

/**
 * After a writer appended exchanges to the session file: the index gets their rows in place of the journal's,
 * without reading or re-encoding the rows it has (the file rows are copied as bytes). Only when the index was
 * current for the file before the append; otherwise it is left for the next reader to rebuild.
 */
export async function appendFileRows(file: string, fileBefore: FileStamp, rows: readonly SessionRow[], now: { head: SessionHead; file: IndexedFile }): Promise<boolean> {
  const newErrors = rows.reduce((n, r) => n + (isErrorSummary(r.summary) ? 1 : 0), 0)
  // Cut where the journal's rows start: the file's rows stay as they are, bytes copied.
  return editIndexCopy(
    file,
    (old) => old.file !== null && sameStamp(old.file.stamp, fileBefore),
    async (handle, { trailer: old }) => {
      await handle.truncate(old.journalRowsAt)
      const at = await writeRows(handle, rows, old.journalRowsAt)
      const fileRows = old.fileRows + rows.length
      const fileErrors = old.fileErrors + newErrors
      const trailer: IndexTrailer = {
        index: INDEX_FORMAT,
        revision: INDEX_REVISION,
        head: now.head,
        file: now.file,
        journal: null,
        fileRows,
        fileErrors,
        journalRows: 0,
        journalRowsAt: at,
        exchanges: fileRows,
        maxSeq: rows.reduce((m, r) => Math.max(m, r.summary.seq), old.maxSeq),
        errors: fileErrors,
      }
      await writeFully(handle, Buffer.from(JSON.stringify(trailer) + '\n'), at)
    },
  )
}

/** An index that is not the one an edit was meant for: the edit is dropped. */
class NotThatIndex extends Error {}

/**
 * Edits a copy of the index (its rows copied as bytes) and renames it over the index, when the index's trailer is
 * one `usable` accepts. The trailer is read before copying (to give up cheaply) and again from the copy, which is
 * what gets edited: an index another reader or writer replaced between the two is never cut at the old one's
 * offsets. False when there is no such index, or it cannot be written (then the caller writes the index whole or
 * leaves it to be rebuilt).
 */
async function editIndexCopy(file: string, usable: (trailer: IndexTrailer) => boolean, edit: (handle: FileHandle, found: { trailer: IndexTrailer; at: number }) => Promise<void>): Promise<boolean> {
  const before = await readIndexTrailer(file)
  if (!before || !usable(before.trailer)) return false
  try {
    await replaceFile(
      file,
      async (handle) => {
        const found = await trailerIn(handle)
        if (!found || !usable(found.trailer)) throw new NotThatIndex()
        await edit(handle, found)
      },
      { durable: false, copy: true },
    )
    return true
  } catch {
    return false
  }
}

/** What a reader last wrote to an index: the file and journal it described, and how many journal rows it held. */
export type SavedIndex = { file: IndexedFile | null; journal: IndexedJournal | null; journalRows: number }

/**
 * A reader following a journal: its new rows go after the index's journal rows, without reading or re-encoding the
 * rows the index has (copied as bytes), when the index on disk is still the one `saved` describes (no other reader or
 * writer replaced it meanwhile). False when it is not, or cannot be written: then the caller writes it whole.
 */
export async function appendJournalRows(file: string, saved: SavedIndex, rows: readonly SessionRow[], trailer: Omit<IndexTrailer, 'journalRowsAt'>): Promise<boolean> {
  return editIndexCopy(
    file,
    // Written by JSON.stringify from the same objects, so the texts of equal ones are equal.
    (old) => old.journalRows === saved.journalRows && JSON.stringify(old.file) === JSON.stringify(saved.file) && JSON.stringify(old.journal) === JSON.stringify(saved.journal),
    async (handle, found) => {
      await handle.truncate(found.at)
      const at = await writeRows(handle, rows, found.at)
      await writeFully(handle, Buffer.from(JSON.stringify({ ...trailer, journalRowsAt: found.trailer.journalRowsAt }) + '\n'), at)
    },
  )
}

/** The bytes just before a file's append point, as the index keeps them to recognise an append. */
export async function tailOf(file: string, layout: FileLayout): Promise<string> {
  const from = Math.max(0, layout.appendAt - TAIL_BYTES)
  const handle = await open(file, 'r')
  try {
    const buf = Buffer.alloc(layout.appendAt - from)
    await readFully(handle, buf, from)
    return buf.toString('base64')
  } finally {
    await handle.close()
  }
}

const TAIL_BYTES = 32
