/**
 * The viewer's view of the sessions directory: each session parsed once and kept with its list rows,
 * refreshed when its file or journal changes (by size, mtime and inode). A growing journal is read
 * from the last offset only, so a recorder appending to a 10,000-exchange session costs a line, not a reload.
 */
import { open, readFile, stat } from 'node:fs/promises'
import { newSession, parseExchange, parseSession, type Exchange, type Identity, type Session } from '../model/session.js'
import { summarize, type ExchangeSummary } from '../model/summary.js'
import { JournalError } from '../store/journal.js'
import type { SessionPaths } from '../store/paths.js'
import { isErrorExchange, parseJsonText, SessionNotFoundError, SessionStore, type SessionSummary } from '../store/store.js'

type FileStamp = { size: number; mtimeMs: number; ino: number }
type Stamp = { file: FileStamp | null; journal: FileStamp | null }

export type CachedSession = {
  readonly name: string
  readonly paths: SessionPaths
  /** Exchanges sorted by seq; `summaries` is parallel to it. */
  readonly session: Session
  readonly summaries: ExchangeSummary[]
  readonly bySeq: Map<number, Exchange>
  errors: number
  stamp: Stamp
  /** Bytes of the journal already read (up to the last complete line), and its line count. */
  journalOffset: number
  journalLines: number
  /** The journal's first bytes: a replaced journal can get the old one's inode back, its first line cannot match. */
  journalHead: Buffer
}

const HEAD_BYTES = 256

async function stampOf(file: string): Promise<FileStamp | null> {
  try {
    const s = await stat(file)
    return { size: s.size, mtimeMs: s.mtimeMs, ino: s.ino }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
}

function sameFile(a: FileStamp | null, b: FileStamp | null): boolean {
  if (a === null || b === null) return a === b
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ino === b.ino
}

function sameStamp(a: Stamp, b: Stamp): boolean {
  return sameFile(a.file, b.file) && sameFile(a.journal, b.journal)
}

function updatedAt(stamp: Stamp): string | null {
  const ms = Math.max(stamp.file?.mtimeMs ?? 0, stamp.journal?.mtimeMs ?? 0)
  return ms ? new Date(ms).toISOString() : null
}

/** Reads a journal's bytes from `offset` to its end; null when it is gone. */
async function readFrom(file: string, offset: number): Promise<Buffer | null> {
  let handle
  try {
    handle = await open(file, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  try {
    const { size } = await handle.stat()
    const length = Math.max(0, size - offset)
    const buffer = Buffer.alloc(length)
    let read = 0
    while (read < length) {
      const { bytesRead } = await handle.read(buffer, read, length - read, offset + read)
      if (bytesRead === 0) break
      read += bytesRead
    }
    return buffer.subarray(0, read)
  } finally {
    await handle.close()
  }
}

/** True when the journal still starts with the bytes read from it before (nothing read yet: trivially true). */
async function sameHead(file: string, head: Buffer): Promise<boolean> {
  if (head.length === 0) return true
  let handle
  try {
    handle = await open(file, 'r')
  } catch {
    return false
  }
  try {
    const buffer = Buffer.alloc(head.length)
    const { bytesRead } = await handle.read(buffer, 0, head.length, 0)
    return bytesRead === head.length && buffer.equals(head)
  } finally {
    await handle.close()
  }
}

/** Inserts an exchange in seq order (almost always at the end: the journal is in finishing order). */
function insertExchange(entry: CachedSession, exchange: Exchange): ExchangeSummary {
  const summary = summarize(exchange)
  const list = entry.session.exchanges
  let i = list.length
  while (i > 0 && (list[i - 1] as Exchange).seq > exchange.seq) i--
  list.splice(i, 0, exchange)
  entry.summaries.splice(i, 0, summary)
  entry.bySeq.set(exchange.seq, exchange)
  if (isErrorExchange(exchange)) entry.errors++
  return summary
}

/**
 * Applies the complete lines of a journal chunk. A line still being written (no newline yet) is left
 * for the next read; a bad complete line is an error naming the journal and the line.
 */
function applyJournal(entry: CachedSession, chunk: Buffer, ids: Set<string>): ExchangeSummary[] {
  const end = chunk.lastIndexOf(0x0a)
  if (end === -1) return []
  const text = chunk.subarray(0, end).toString('utf8')
  if (entry.journalOffset === 0) entry.journalHead = Buffer.from(chunk.subarray(0, Math.min(HEAD_BYTES, end + 1)))
  entry.journalOffset += end + 1
  const added: ExchangeSummary[] = []
  const aliases = new Set(entry.session.identities.map((i) => i.alias))
  for (const line of text.split('\n')) {
    entry.journalLines++
    if (line === '') continue
    const where = `${entry.paths.journal}:${entry.journalLines}`
    let value: { t?: unknown; exchange?: unknown; identity?: Partial<Identity> }
    try {
      value = JSON.parse(line)
    } catch (e) {
      throw new JournalError(entry.paths.journal, entry.journalLines, `not valid JSON (${(e as Error).message})`)
    }
    if (value?.t === 'exchange') {
      const exchange = parseExchange(value.exchange, where, 'exchange')
      if (!ids.has(exchange.id)) {
        ids.add(exchange.id)
        added.push(insertExchange(entry, exchange))
      }
    } else if (value?.t === 'identity' && typeof value.identity?.alias === 'string' && typeof value.identity.tokenHash === 'string') {
      if (!aliases.has(value.identity.alias)) {
        aliases.add(value.identity.alias)
        entry.session.identities.push(value.identity as Identity)
      }
    } else {
      throw new JournalError(entry.paths.journal, entry.journalLines, 'expected an exchange or identity entry')
    }
  }
  return added
}

export type Refresh = { entry: CachedSession; added: ExchangeSummary[]; reloaded: boolean }

export class SessionCache {
  readonly store: SessionStore
  private readonly entries = new Map<string, CachedSession>()
  private readonly ids = new Map<string, Set<string>>()
  private readonly listed = new Map<string, { stamp: Stamp; summary: SessionSummary }>()
  private readonly queues = new Map<string, Promise<unknown>>()

  /** @param maxSessions how many parsed sessions to keep in memory (least recently used go first) */
  constructor(
    dir: string,
    private readonly maxSessions = 4,
  ) {
    this.store = new SessionStore(dir)
  }

  /** A session, parsed and current. Throws SessionNotFoundError, SessionNameError, SessionFormatError or JournalError. */
  async get(name: string): Promise<CachedSession> {
    return (await this.refresh(name)).entry
  }

  /** Brings a session up to date; `added` lists rows that a journal read appended (empty after a full reload). */
  refresh(name: string): Promise<Refresh> {
    const paths = this.store.paths(name) // throws SessionNameError on a name with path segments
    // One refresh per session at a time: two readers of the same journal offset would add rows twice.
    const previous = this.queues.get(name) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(() => this.refreshNow(name, paths))
    this.queues.set(name, next)
    void next.finally(() => {
      if (this.queues.get(name) === next) this.queues.delete(name)
    }).catch(() => undefined)
    return next
  }

  private async refreshNow(name: string, paths: SessionPaths): Promise<Refresh> {
    const stamp: Stamp = { file: await stampOf(paths.file), journal: await stampOf(paths.journal) }
    if (!stamp.file && !stamp.journal) {
      this.forget(name)
      throw new SessionNotFoundError(name, this.store.dir, this.store.names())
    }
    const cached = this.entries.get(name)
    if (cached) {
      this.entries.delete(name)
      this.entries.set(name, cached) // most recently used last
      if (sameStamp(cached.stamp, stamp)) return { entry: cached, added: [], reloaded: false }
      const journalGrew =
        sameFile(cached.stamp.file, stamp.file) &&
        stamp.journal !== null &&
        (cached.stamp.journal === null ? cached.journalOffset === 0 : cached.stamp.journal.ino === stamp.journal.ino) &&
        stamp.journal.size >= cached.journalOffset
      if (journalGrew && (await sameHead(paths.journal, cached.journalHead))) {
        const chunk = await readFrom(paths.journal, cached.journalOffset)
        if (chunk !== null) {
          let added: ExchangeSummary[]
          try {
            added = applyJournal(cached, chunk, this.idsOf(name, cached))
          } catch (e) {
            this.forget(name) // half applied: the next look reads the whole session again (and fails the same way)
            throw e
          }
          cached.stamp = stamp
          return { entry: cached, added, reloaded: false }
        }
      }
    }
    const entry = await this.load(name, paths, stamp)
    this.entries.set(name, entry)
    while (this.entries.size > this.maxSessions) {
      const oldest = this.entries.keys().next().value as string
      this.forget(oldest)
    }
    return { entry, added: [], reloaded: true }
  }

  private idsOf(name: string, entry: CachedSession): Set<string> {
    let ids = this.ids.get(name)
    if (!ids) {
      ids = new Set(entry.session.exchanges.map((e) => e.id))
      this.ids.set(name, ids)
    }
    return ids
  }

  private forget(name: string): void {
    this.entries.delete(name)
    this.ids.delete(name)
  }

  private async load(name: string, paths: SessionPaths, stamp: Stamp): Promise<CachedSession> {
    let session: Session
    if (stamp.file) {
      session = parseSession(parseJsonText(await readFile(paths.file, 'utf8'), paths.file), paths.file)
    } else {
      // Only a journal: its recorder has not closed it yet (or crashed).
      const createdAt = new Date(stamp.journal?.mtimeMs ?? Date.now()).toISOString()
      session = newSession(name, { tool: 'unknown', mode: 'forward', upstream: null }, createdAt)
    }
    session.exchanges.sort((a, b) => a.seq - b.seq)
    const entry: CachedSession = {
      name,
      paths,
      session,
      summaries: session.exchanges.map(summarize),
      bySeq: new Map(session.exchanges.map((e) => [e.seq, e])),
      errors: session.exchanges.filter(isErrorExchange).length,
      stamp,
      journalOffset: 0,
      journalLines: 0,
      journalHead: Buffer.alloc(0),
    }
    this.ids.delete(name)
    const chunk = stamp.journal ? await readFrom(paths.journal, 0) : null
    if (chunk) applyJournal(entry, chunk, this.idsOf(name, entry))
    return entry
  }

  /** The summary `reltape sessions --json` gives, from the cache; an unreadable session carries `invalid`. */
  async summary(name: string): Promise<SessionSummary> {
    const paths = this.store.paths(name)
    const stamp: Stamp = { file: await stampOf(paths.file), journal: await stampOf(paths.journal) }
    const known = this.listed.get(name)
    if (known && sameStamp(known.stamp, stamp)) return known.summary
    let summary: SessionSummary
    try {
      const entry = await this.get(name)
      const s = entry.session
      summary = {
        name,
        file: paths.file,
        exchanges: s.exchanges.length,
        errors: entry.errors,
        identities: s.identities.length,
        createdAt: s.createdAt,
        updatedAt: updatedAt(entry.stamp),
      }
      this.listed.set(name, { stamp: entry.stamp, summary })
    } catch (e) {
      if (e instanceof SessionNotFoundError) throw e
      summary = { name, file: paths.file, exchanges: 0, errors: 0, identities: 0, createdAt: null, updatedAt: updatedAt(stamp), invalid: (e as Error).message }
      this.listed.set(name, { stamp, summary })
    }
    return summary
  }

  /** Every session in the directory, in name order; one removed while listing is left out. */
  async list(): Promise<SessionSummary[]> {
    const names = this.store.names()
    for (const name of this.listed.keys()) if (!names.includes(name)) this.listed.delete(name)
    const out: SessionSummary[] = []
    for (const name of names) {
      try {
        out.push(await this.summary(name))
      } catch (e) {
        if (!(e instanceof SessionNotFoundError)) throw e
      }
    }
    return out
  }
}
