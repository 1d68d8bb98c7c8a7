/**
 * Writing exchanges into a session file: appended in place after the last one, so that a stop costs what is new,
 * never what is there. The file stays one JSON document: the exchanges array and what follows it (the head's
 * keys that change, `identities`) are written again from the append point; the bytes before it are never touched.
 *
 * Crash safety comes from the journal, which holds every exchange written here and is removed only after the
 * file is on disk (fsync): a write cut short leaves a file that ends early, which the next opener cuts back to
 * its last complete exchange and completes from the journal (see SessionReader and SessionWriter).
 *
 * A file whose head must change before its array (an older layout with `identities` first, once a new identity
 * appears) is written whole once, into a private temporary file renamed over it, in the layout that appends.
 */
import { constants } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { basename, dirname } from 'node:path'
import type { SessionHead } from '../model/session.js'
import { exchangeTextOfLine } from './journal.js'
import type { SessionPaths } from './paths.js'
import { removeLeftovers } from './lock.js'
import { PlantedLinkError, replaceFile } from './private-file.js'
import { readFully, writeFully } from './read-write-fully.js'
import { FROM_FILE, stampOf, stampOfStats, type FileStamp, type SessionRow } from './session-index.js'
import type { FileLayout } from './session-scan.js'

/** Head keys that change while a session is recorded: written after the exchanges, where an append rewrites them. */
export const KEYS_AFTER = ['identities']

const INDENT = '    '
/** What goes before an exchange in the array: the first one, then every later one (one exchange per line). */
export const FIRST = Buffer.from(`\n${INDENT}`)
export const BETWEEN = Buffer.from(`,\n${INDENT}`)
/** Bytes of exchanges gathered before one write. */
const BATCH_BYTES = 8 << 20

/** The session file as it is on disk, for the writer: its head and layout, or null when there is none yet. */
export type FileOnDisk = { head: SessionHead; layout: FileLayout } | null

export type AppendResult = {
  layout: FileLayout
  /** The appended exchanges' rows, now pointing into the file. */
  rows: SessionRow[]
  stamp: FileStamp
  /** True when the file was written whole (new, or its head's layout changed): other rows' offsets moved. */
  rewritten: boolean
}

/** `"key": value` lines for keys written after the array, each value indented as the head is. */
function keysText(head: SessionHead, keys: readonly string[]): string {
  let out = ''
  for (const k of keys) {
    const value = (head as Record<string, unknown>)[k]
    if (value === undefined) continue
    out += `,\n  ${JSON.stringify(k)}: ${JSON.stringify(value, null, 2).replace(/\n/g, '\n  ')}`
  }
  return out
}

/** The text after the last exchange: the array's end, the keys after it, the object's end. */
export function closingText(head: SessionHead, keysAfter: readonly string[]): Buffer {
  return Buffer.from(`\n  ]${keysText(head, keysAfter)}\n}\n`)
}

/** The text of a new file up to and including the array's `[`: every head key but those written after. */
export function openingText(head: SessionHead): Buffer {
  const before: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(head)) if (!KEYS_AFTER.includes(k)) before[k] = v
  const text = JSON.stringify({ ...before, exchanges: [] }, null, 2)
  return Buffer.from(text.slice(0, text.lastIndexOf('[]')) + '[')
}

/** True when every head key written before the array is as on disk: then an append in place is enough. */
function headFitsInPlace(disk: SessionHead, head: SessionHead, keysAfter: readonly string[]): boolean {
  const d = disk as Record<string, unknown>
  const h = head as Record<string, unknown>
  for (const k of new Set([...Object.keys(d), ...Object.keys(h)])) {
    if (keysAfter.includes(k)) continue
    if (JSON.stringify(d[k]) !== JSON.stringify(h[k])) return false
  }
  return true
}

/** Where one exchange's text comes from: its journal line. */
export type JournalSpan = { row: SessionRow; journal: string }

/** Reads the exchanges' texts from their journal lines in batches of about BATCH_BYTES, in the order given. */
async function* textBatches(spans: readonly JournalSpan[]): AsyncGenerator<Array<{ row: SessionRow; text: Buffer }>> {
  const handles = new Map<string, FileHandle>()
  try {
    let batch: Array<{ row: SessionRow; text: Buffer }> = []
    let bytes = 0
    for (const { row, journal } of spans) {
      let handle = handles.get(journal)
      if (!handle) handles.set(journal, (handle = await open(journal, 'r')))
      const line = Buffer.allocUnsafe(row.length)
      if ((await readFully(handle, line, row.offset)) !== row.length) throw new Error(`${journal}: exchange ${row.summary.seq} ends before its indexed end (byte ${row.offset + row.length})`)
      const text = exchangeTextOfLine(line)
      batch.push({ row, text })
      bytes += text.length
      if (bytes >= BATCH_BYTES) {
        yield batch
        batch = []
        bytes = 0
      }
    }
    if (batch.length) yield batch
  } finally {
    for (const h of handles.values()) await h.close()
  }
}

/** Writes the exchanges at `at` (after `count` exchanges), collecting their new rows; returns the end offset. */
async function writeExchanges(handle: FileHandle, spans: readonly JournalSpan[], at: number, count: number, rows: SessionRow[]): Promise<{ end: number; count: number }> {
  for await (const batch of textBatches(spans)) {
    const chunks: Buffer[] = []
    let pos = at
    for (const { row, text } of batch) {
      const sep = count === 0 ? FIRST : BETWEEN
      chunks.push(sep, text)
      pos += sep.length
      rows.push({ ...row, src: FROM_FILE, offset: pos, length: text.length })
      pos += text.length
      count++
    }
    at += await writeFully(handle, chunks, at)
  }
  return { end: at, count }
}

/**
 * Removes temporary files a crashed writer of this session left (`.<name>.json.<pid>.<random>.tmp`, the index's,
 * and the single `.<name>.json.tmp` of older versions) whose process is gone. Unlinking removes a planted link
 * itself, never its target; a new temporary file is always created under a fresh name, exclusively.
 */
export function removeStaleTemps(file: string): void {
  const name = basename(file).replace(/\.json$/, '')
  const ours = new RegExp(`^\\.${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(json|index|journal|entities)(\\.(\\d+)\\.[0-9a-f]{8})?\\.tmp$`)
  removeLeftovers(dirname(file), (entry) => {
    const m = ours.exec(entry)
    return m ? (m[3] ? Number(m[3]) : null) : undefined
  })
}

/**
 * Appends the exchanges (in the order given, which is seq order) to the session file, and writes the head's
 * changing keys after them; creates the file when there is none. On return the file is on disk (fsynced).
 */
export async function appendToSessionFile(paths: SessionPaths, disk: FileOnDisk, head: SessionHead, spans: readonly JournalSpan[]): Promise<AppendResult> {
  if (disk && headFitsInPlace(disk.head, head, disk.layout.keysAfter)) return appendInPlace(paths.file, disk, head, spans)
  return rewrite(paths.file, disk, head, spans)
}

async function appendInPlace(file: string, disk: NonNullable<FileOnDisk>, head: SessionHead, spans: readonly JournalSpan[]): Promise<AppendResult> {
  const { layout } = disk
  const keysAfter = layout.keysAfter
  let handle: FileHandle
  try {
    // Appended in place only when the file is the session itself: never through a link to somewhere else.
    handle = await open(file, constants.O_RDWR | constants.O_NOFOLLOW)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new PlantedLinkError(file)
    throw e
  }
  try {
    const rows: SessionRow[] = []
    const written = await writeExchanges(handle, spans, layout.appendAt, layout.count, rows)
    const closing = closingText(head, keysAfter)
    await writeFully(handle, closing, written.end)
    const size = written.end + closing.length
    await handle.truncate(size)
    await handle.sync()
    return {
      layout: { size, arrayStart: layout.arrayStart, appendAt: written.end, count: written.count, keysAfter, complete: true },
      rows,
      stamp: stampOfStats(await handle.stat()),
      rewritten: false,
    }
  } finally {
    await handle.close()
  }
}

async function rewrite(file: string, disk: FileOnDisk, head: SessionHead, spans: readonly JournalSpan[]): Promise<AppendResult> {
  const { layout, rows } = await replaceFile(file, async (handle) => {
    const opening = openingText(head)
    let at = await writeFully(handle, opening, 0)
    const arrayStart = at
    let count = 0
    if (disk && disk.layout.count > 0) {
      // The exchanges already there are copied as bytes, never parsed or serialised again.
      const from = await open(file, 'r')
      try {
        const chunk = Buffer.allocUnsafe(BATCH_BYTES)
        for (let pos = disk.layout.arrayStart; pos < disk.layout.appendAt; ) {
          const { bytesRead } = await from.read(chunk, 0, Math.min(chunk.length, disk.layout.appendAt - pos), pos)
          if (bytesRead === 0) throw new Error(`${file}: ends at byte ${pos}, before its last exchange`)
          at += await writeFully(handle, chunk.subarray(0, bytesRead), at)
          pos += bytesRead
        }
      } finally {
        await from.close()
      }
      count = disk.layout.count
    }
    const rows: SessionRow[] = []
    const written = await writeExchanges(handle, spans, at, count, rows)
    const closing = closingText(head, KEYS_AFTER)
    await writeFully(handle, closing, written.end)
    const size = written.end + closing.length
    return { layout: { size, arrayStart, appendAt: written.end, count: written.count, keysAfter: [...KEYS_AFTER], complete: true }, rows }
  }, { durable: true })
  return { layout, rows, stamp: (await stampOf(file))!, rewritten: true }
}
