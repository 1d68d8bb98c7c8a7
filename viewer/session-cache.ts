/**
 * The viewer's open sessions: a SessionReader per session (rows only; an exchange is read by its offset when a
 * page asks for it), kept while it is used and dropped, least recently used first, once the rows held pass a
 * bound. Reading, indexing and following a journal are the store's; this file only caches and evicts.
 */
import type { Exchange, SessionHead } from '../model/session.js'
import type { ExchangeSummary } from '../model/summary.js'
import type { SessionPaths } from '../store/paths.js'
import type { SessionRow } from '../store/session-index.js'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { harNames, HarViews, isHarName } from '../store/har-view.js'
import { lockIsLive } from '../store/lock.js'
import { SessionNotFoundError, SessionReader, SessionStore, type SessionSummary } from '../store/store.js'

export type CachedSession = {
  readonly name: string
  readonly paths: SessionPaths
  readonly reader: SessionReader
}

export type Refresh = { entry: CachedSession; added: ExchangeSummary[]; reloaded: boolean }

export type CacheLimits = {
  /** Sessions kept open at most. @default 8 */
  maxSessions?: number
  /** Rows (about 0.4 KB each) kept in memory at most, over all open sessions; the session in use always stays. @default 300000 */
  maxRows?: number
}

export class SessionCache {
  readonly store: SessionStore
  readonly #entries = new Map<string, CachedSession>()
  readonly #queues = new Map<string, Promise<unknown>>()
  readonly #maxSessions: number
  readonly #maxRows: number
  readonly #harViews: HarViews

  constructor(dir: string, limits: CacheLimits | number = {}) {
    this.store = new SessionStore(dir)
    this.#harViews = new HarViews(this.store.dir)
    const l = typeof limits === 'number' ? { maxSessions: limits } : limits
    this.#maxSessions = l.maxSessions ?? 8
    this.#maxRows = l.maxRows ?? 300_000
  }

  /** A session, current. Throws SessionNotFoundError, SessionNameError, SessionFormatError or JournalError. */
  async get(name: string): Promise<CachedSession> {
    return (await this.refresh(name)).entry
  }

  /** A session's summary and head from one look at the disk, so both tell of the same moment of a recording. */
  async described(name: string): Promise<{ summary: SessionSummary; head: SessionHead }> {
    const { reader } = await this.get(name)
    return { summary: this.#summaryOf(name, reader), head: reader.head }
  }

  /** A reader's summary; a `.har` is listed under its own name and file, not its private import's. */
  #summaryOf(name: string, reader: SessionReader): SessionSummary {
    return this.#har(name) ? { ...reader.summary(), name, file: join(this.store.dir, name) } : reader.summary()
  }

  /** A page of list rows. */
  async page(name: string, offset: number, limit: number): Promise<{ total: number; items: ExchangeSummary[] }> {
    const { rows } = (await this.get(name)).reader
    return { total: rows.length, items: rows.slice(offset, offset + limit).map((r: SessionRow) => r.summary) }
  }

  /** One exchange, read from disk by its offset; undefined when the session has no such seq. */
  async exchange(name: string, seq: number): Promise<Exchange | undefined> {
    const { reader } = await this.get(name)
    return reader.row(seq) ? reader.exchange(seq) : undefined
  }

  /** Brings a session up to date; `added` lists rows that appeared since the last look (none after a reload). */
  refresh(name: string): Promise<Refresh> {
    const paths = this.#har(name) ? null : this.store.paths(name) // throws SessionNameError on a name with path segments
    // One refresh per session at a time: two readers of the same journal offset would add rows twice.
    const previous = this.#queues.get(name) ?? Promise.resolve()
    const next = previous.catch(() => undefined).then(async () => this.#refreshNow(name, paths ?? (await this.#harPaths(name))))
    this.#queues.set(name, next)
    void next
      .finally(() => {
        if (this.#queues.get(name) === next) this.#queues.delete(name)
      })
      .catch(() => undefined)
    return next
  }

  /** True for a `.har` file of the directory: listed and viewed read-only, through a private import. */
  #har(name: string): boolean {
    return isHarName(name) && existsSync(join(this.store.dir, name))
  }

  async #harPaths(name: string): Promise<SessionPaths> {
    try {
      return await this.#harViews.paths(name)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionNotFoundError(name, this.store.dir, this.#names())
      throw e
    }
  }

  #names(): string[] {
    return [...this.store.names(), ...harNames(this.store.dir)].sort()
  }

  async #refreshNow(name: string, paths: SessionPaths): Promise<Refresh> {
    await this.store.foldAbandoned(paths)
    let cached = this.#entries.get(name)
    // A HAR that changed is imported afresh, into other paths: the old reading is dropped.
    if (cached && cached.paths.file !== paths.file) {
      this.#entries.delete(name)
      cached = undefined
    }
    if (cached) {
      this.#entries.delete(name)
      this.#entries.set(name, cached) // most recently used last
      try {
        const change = await cached.reader.refresh()
        return { entry: cached, added: change.added.map((r) => r.summary), reloaded: change.reloaded }
      } catch (e) {
        this.#entries.delete(name) // half read: the next look opens it again (and fails the same way if it is broken)
        if (e instanceof SessionNotFoundError) throw new SessionNotFoundError(name, this.store.dir, this.store.names())
        throw e
      }
    }
    let reader: SessionReader
    try {
      reader = await SessionReader.open(paths)
    } catch (e) {
      if (e instanceof SessionNotFoundError) throw new SessionNotFoundError(name, this.store.dir, this.store.names())
      throw e
    }
    const entry: CachedSession = { name, paths, reader }
    this.#entries.set(name, entry)
    this.#evict(name)
    return { entry, added: [], reloaded: true }
  }

  #evict(keep: string): void {
    let rows = 0
    for (const e of this.#entries.values()) rows += e.reader.count
    for (const [name, e] of this.#entries) {
      if (this.#entries.size <= this.#maxSessions && rows <= this.#maxRows) break
      if (name === keep) continue
      this.#entries.delete(name)
      rows -= e.reader.count
    }
  }

  /** Removes the private copies of the HARs it has shown. */
  close(): void {
    this.#harViews.close()
  }

  /** The summary `reltape sessions --json` gives; an unreadable session carries `invalid`. */
  async summary(name: string): Promise<SessionSummary> {
    if (this.#har(name)) {
      const file = join(this.store.dir, name)
      try {
        return this.#summaryOf(name, (await this.get(name)).reader)
      } catch (e) {
        if (e instanceof SessionNotFoundError) throw e
        return { name, file, exchanges: 0, errors: 0, identities: 0, createdAt: null, updatedAt: null, invalid: (e as Error).message }
      }
    }
    let cached = this.#entries.get(name)
    // Opened just now for a session being recorded: current, not to be refreshed again.
    const opened = !cached && this.#recording(name) ? await this.get(name).catch(() => undefined) : undefined
    cached ??= opened
    if (!cached) {
      const summary = await this.store.summary(name)
      if (summary.invalid && !this.store.names().includes(name)) throw new SessionNotFoundError(name, this.store.dir, this.store.names())
      return summary
    }
    try {
      return (opened ?? (await this.get(name))).reader.summary()
    } catch (e) {
      if (e instanceof SessionNotFoundError) throw e
      return { name, file: cached.paths.file, exchanges: 0, errors: 0, identities: 0, createdAt: null, updatedAt: null, invalid: (e as Error).message }
    }
  }

  /**
   * Whether a session is being recorded: its journal is there and its lock held by a live process (a journal a crash
   * left is folded by the store's listing, once). Its index goes stale at every exchange: listed, such a session is
   * held open here, so that each new listing follows its journal from where the last stopped instead of reading the
   * whole session again.
   */
  #recording(name: string): boolean {
    try {
      const paths = this.store.paths(name)
      return existsSync(paths.journal) && lockIsLive(paths.lock)
    } catch {
      return false // a name reltape would not give a session: listed as invalid by the store
    }
  }

  /** Every session in the directory, in name order; one removed while listing is left out. */
  async list(): Promise<SessionSummary[]> {
    const out: SessionSummary[] = []
    for (const name of this.#names()) {
      try {
        out.push(await this.summary(name))
      } catch (e) {
        if (!(e instanceof SessionNotFoundError)) throw e
      }
    }
    return out
  }
}
