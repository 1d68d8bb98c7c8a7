/**
 * Sessions on disk: list, read, create and append. A session is `<name>.json` (written by lowdb, atomically,
 * when the writer closes) plus `<name>.journal` (appended at once for each exchange). Readers see both.
 */
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, statSync, unlinkSync } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { Low } from 'lowdb'
import { identityAlias } from '../model/auth.js'
import {
  newSession,
  parseSession,
  SessionFormatError,
  type Exchange,
  type Identity,
  type Recording,
  type Session,
} from '../model/session.js'
import type { SessionSummary } from '../model/summary.js'
import { exchangeLine, JournalError, journaledExchangeTexts, JournalWriter, readJournal, type JournalEntry } from './journal.js'
import { acquireLock, type LockHandle } from './lock.js'
import { ensureDir, ensurePrivateFile } from './private-file.js'
import { exchangeText, SessionFile, type ExchangeText, type SessionDocument } from './session-file.js'
import { sessionPaths, type SessionPaths } from './paths.js'

export type { SessionSummary } from '../model/summary.js'

export class SessionNotFoundError extends Error {
  readonly code = 'SESSION_NOT_FOUND'
  constructor(
    readonly session: string,
    readonly dir: string,
    readonly available: string[],
  ) {
    super(
      `no session ${JSON.stringify(session)} in ${dir}` +
        (available.length ? `; sessions there: ${available.slice(0, 20).join(', ')}${available.length > 20 ? ', …' : ''}` : '; it holds no sessions'),
    )
    this.name = 'SessionNotFoundError'
  }
}

/** Parses JSON text, or throws an error naming the file, the line and the column where it breaks. */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text)
  } catch (e) {
    const message = (e as Error).message
    const m = /position (\d+)/.exec(message)
    const pos = m ? Number(m[1]) : text.length
    const before = text.slice(0, pos)
    const line = before.split('\n').length
    const col = pos - before.lastIndexOf('\n')
    const what = m ? message.replace(/\s*in JSON at position \d+.*$/, '') : 'the file ends before the JSON does (truncated?)'
    throw new SessionFormatError(file, `line ${line}, column ${col}`, `not valid JSON: ${what}`)
  }
}

/** Short, stable hash of a token: tells identities apart without storing the token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12)
}

/** True when an exchange's envelope says `OK: false`, or it failed in transport. */
export function isErrorExchange(e: Exchange): boolean {
  if (e.error) return true
  const body = e.response?.body
  return body?.kind === 'json' && typeof body.json === 'object' && body.json !== null && (body.json as { OK?: unknown }).OK === false
}

/** Merges journal entries into a session (skipping what the file already holds) and sorts by seq. */
function merge(session: Session, entries: JournalEntry[]): Session {
  if (entries.length === 0) return session
  const ids = new Set(session.exchanges.map((e) => e.id))
  const aliases = new Set(session.identities.map((i) => i.alias))
  for (const entry of entries) {
    if (entry.t === 'exchange') {
      if (!ids.has(entry.exchange.id)) {
        ids.add(entry.exchange.id)
        session.exchanges.push(entry.exchange)
      }
    } else if (!aliases.has(entry.identity.alias)) {
      aliases.add(entry.identity.alias)
      session.identities.push(entry.identity)
    }
  }
  session.exchanges.sort((a, b) => a.seq - b.seq)
  return session
}

async function readSessionFile(file: string): Promise<Session | null> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw e
  }
  return parseSession(parseJsonText(text, file), file)
}

/**
 * Reads a session file plus its journal, without locking or changing either: what readers (viewer, replay) see.
 * A session with only a journal (its recorder crashed before the first close) is read too.
 */
export async function readSessionFiles(paths: SessionPaths): Promise<Session> {
  const fromFile = await readSessionFile(paths.file)
  const { entries } = readJournal(paths.journal)
  if (!fromFile && entries.length === 0 && !existsSync(paths.journal))
    throw new SessionNotFoundError(paths.name, dirname(paths.file), [])
  const session = fromFile ?? newSession(paths.name, { tool: 'unknown', mode: 'forward', upstream: null })
  return merge(session, entries)
}

/** Where a session name or a path to a session file points. */
export function resolveSessionRef(dir: string, ref: string): SessionPaths {
  if (ref.endsWith('.json') || ref.includes('/') || ref.includes('\\')) {
    const file = resolve(ref)
    const name = basename(file).replace(/\.json$/, '')
    return { name, file, journal: join(dirname(file), `${name}.journal`), lock: join(dirname(file), `${name}.lock`) }
  }
  return sessionPaths(dir, ref)
}

export type OpenOptions = {
  /** How the session is being recorded; used when it is created. */
  recording: Recording
  /** Told about stale locks taken over and torn journal lines. */
  warn?: (message: string) => void
}

export class SessionStore {
  readonly dir: string

  constructor(dir: string) {
    this.dir = resolve(dir)
  }

  /** The names of the sessions in the directory (a file or an orphaned journal), sorted. */
  names(): string[] {
    if (!existsSync(this.dir)) return []
    const names = new Set<string>()
    for (const f of readdirSync(this.dir)) {
      if (f.startsWith('.')) continue
      const m = /^(.+)\.(json|journal)$/.exec(f)
      if (m?.[1]) names.add(m[1])
    }
    return [...names].sort()
  }

  paths(name: string): SessionPaths {
    return sessionPaths(this.dir, name)
  }

  /** Reads a session by name or file path (file plus journal); throws SessionNotFoundError listing what exists. */
  async read(ref: string): Promise<Session> {
    const paths = resolveSessionRef(this.dir, ref)
    if (!existsSync(paths.file) && !existsSync(paths.journal)) {
      const inDir = dirname(paths.file) === this.dir
      throw new SessionNotFoundError(ref, dirname(paths.file), inDir ? this.names() : [])
    }
    return readSessionFiles(paths)
  }

  /** A summary of every session; one that cannot be read is listed with `invalid` set, not skipped. */
  async list(): Promise<SessionSummary[]> {
    const out: SessionSummary[] = []
    for (const name of this.names()) out.push(await this.summary(name))
    return out
  }

  async summary(name: string): Promise<SessionSummary> {
    const paths = this.paths(name)
    const updatedAt = await latestMtime(paths)
    try {
      const s = await readSessionFiles(paths)
      return {
        name,
        file: paths.file,
        exchanges: s.exchanges.length,
        errors: s.exchanges.filter(isErrorExchange).length,
        identities: s.identities.length,
        createdAt: s.createdAt,
        updatedAt,
      }
    } catch (e) {
      return { name, file: paths.file, exchanges: 0, errors: 0, identities: 0, createdAt: null, updatedAt, invalid: (e as Error).message }
    }
  }

  /**
   * Opens a session for writing, creating it if needed: takes the lock, merges a journal left by a crash
   * (rewriting the file atomically), and returns a writer. A corrupt file is an error and stays untouched.
   */
  async open(name: string, options: OpenOptions): Promise<SessionWriter> {
    const warn = options.warn ?? ((m: string) => process.emitWarning(m))
    const paths = this.paths(name)
    ensureDir(this.dir)
    const lock = acquireLock(paths.lock, `recording (${options.recording.tool})`, warn)
    try {
      const fromFile = await readSessionFile(paths.file)
      const journal = readJournal(paths.journal)
      if (journal.tornTail) warn(`${paths.journal}: the last line was cut short by a crash and holds no complete exchange; skipped`)
      const session = merge(fromFile ?? newSession(name, options.recording), journal.entries)
      const writer = new SessionWriter(paths, session, lock)
      if (journal.entries.length > 0 || journal.tornTail || !fromFile) {
        // Fold the crash's journal into the file before a new journal starts, so that nothing is read twice.
        await writer.checkpoint()
      }
      writer.startJournal()
      return writer
    } catch (e) {
      lock.release()
      throw e
    }
  }
}

async function latestMtime(paths: SessionPaths): Promise<string | null> {
  let latest = 0
  for (const f of [paths.file, paths.journal]) {
    try {
      latest = Math.max(latest, (await stat(f)).mtimeMs)
    } catch {
      // missing: not part of the session
    }
  }
  return latest ? new Date(latest).toISOString() : null
}

/**
 * The one writer of a session. `append` journals an exchange (written before the event loop's next turn; the
 * cost is flat in the session's size); `close` writes the whole session atomically with lowdb
 * (`new Low(new SessionFile(…))`, never the JSONFilePreset, which keeps data in memory under NODE_ENV=test)
 * and removes the journal.
 * Exchanges recorded since the file was last written are not kept in memory: the journal holds them, and
 * `checkpoint` takes their text back from it. A recorder of 10,000 exchanges thus holds no 30 MB of strings for
 * the garbage collector to copy and compact (measured: a third of the recorder's own CPU per exchange).
 */
export class SessionWriter {
  readonly #db: Low<SessionDocument>
  /** What the session file holds (as of the last checkpoint): exchange texts sorted by seq. */
  #written: ExchangeText[]
  /** Seqs of the exchanges journaled since, in journal order. */
  #journaled: number[] = []
  #journal: JournalWriter | null = null
  #nextSeq: number
  #byHash = new Map<string, Identity>()
  #closed = false

  constructor(
    readonly paths: SessionPaths,
    session: Session,
    readonly lock: LockHandle,
  ) {
    const { exchanges, ...head } = session
    this.#written = exchanges.map(exchangeText)
    const doc: SessionDocument = { head, exchanges: this.#written }
    this.#db = new Low<SessionDocument>(new SessionFile(paths.file), doc)
    this.#db.data = doc
    this.#nextSeq = exchanges.reduce((max, e) => Math.max(max, e.seq), 0) + 1
    for (const id of head.identities) this.#byHash.set(id.tokenHash, id)
  }

  /** The whole session as objects, journal included. Parses every exchange again: for inspection and tests, not for a hot path. */
  get session(): Session {
    const { head } = this.#db.data
    return { ...head, exchanges: this.#allTexts().map((e) => JSON.parse(e.json.toString()) as Exchange) }
  }

  get identities(): readonly Identity[] {
    return this.#db.data.head.identities
  }

  get exchangeCount(): number {
    return this.#written.length + this.#journaled.length
  }

  get name(): string {
    return this.paths.name
  }

  /** Reserves the next seq: call when a request starts, so that seq follows request order. */
  nextSeq(): number {
    return this.#nextSeq++
  }

  /** The identity for a token, created (and journaled) on first sight. */
  identityFor(token: string, label: string | null = null): Identity {
    const hash = tokenHash(token)
    let identity = this.#byHash.get(hash)
    if (!identity) {
      identity = { alias: identityAlias(this.#byHash.size + 1), tokenHash: hash, label }
      this.#byHash.set(hash, identity)
      this.#db.data.head.identities.push(identity)
      this.#journal?.append({ t: 'identity', identity })
    }
    return identity
  }

  /** Records a finished exchange: journaled (on disk before the next turn of the event loop, or at `flush()`). */
  append(exchange: Exchange): void {
    if (this.#closed) throw new Error(`session ${this.name} is closed; exchange ${exchange.seq} was not recorded`)
    if (!this.#journal) throw new Error(`session ${this.name} has no journal open; exchange ${exchange.seq} was not recorded`)
    this.#journal.appendLine(exchangeLine(JSON.stringify(exchange)))
    this.#journaled.push(exchange.seq)
    if (exchange.seq >= this.#nextSeq) this.#nextSeq = exchange.seq + 1
  }

  /** Writes what was appended in this turn to the journal now. */
  flush(): void {
    this.#journal?.flush()
  }

  startJournal(): void {
    this.#journal = new JournalWriter(this.paths.journal)
  }

  /** The exchanges journaled so far (read back from the journal), as texts paired with their seqs. */
  #journaledTexts(): ExchangeText[] {
    const journal = this.#journal
    if (!journal) return []
    journal.flush()
    const texts = journaledExchangeTexts(journal.file, 0, journal.size)
    if (texts.length !== this.#journaled.length)
      throw new JournalError(journal.file, 0, `holds ${texts.length} exchanges where ${this.#journaled.length} were appended: was it changed by another process?`)
    return texts.map((json, i) => ({ seq: this.#journaled[i] as number, json }))
  }


  #allTexts(): ExchangeText[] {
    return mergeBySeq(this.#written, this.#journaledTexts())
  }

  /** Writes the whole session to its file atomically (lowdb: temporary file, then rename), mode 0600. */
  async checkpoint(): Promise<void> {
    const journal = this.#journal
    const fresh = this.#journaledTexts()
    const journaledBytes = journal?.size ?? 0
    const journaledCount = this.#journaled.length
    const doc = this.#db.data
    const identitiesWritten = doc.head.identities.length
    doc.exchanges = mergeBySeq(this.#written, fresh)
    // SessionFile writes `.<name>.json.tmp` then renames it: one left by a crash is made owner-only first.
    ensurePrivateFile(join(dirname(this.paths.file), `.${basename(this.paths.file)}.tmp`))
    await this.#db.write()
    this.#written = doc.exchanges
    if (!journal) {
      if (existsSync(this.paths.journal)) unlinkSync(this.paths.journal)
      return
    }
    // The file now holds what was journaled when the write began. A fresh journal replaces the old one and
    // carries what arrived during the write (this block is synchronous: no append can slip in between).
    journal.flush()
    const lateSeqs = this.#journaled.slice(journaledCount)
    const late = journaledExchangeTexts(journal.file, journaledBytes, journal.size)
    journal.close()
    unlinkSync(this.paths.journal)
    const next = new JournalWriter(this.paths.journal)
    this.#journal = next
    for (const identity of doc.head.identities.slice(identitiesWritten)) next.append({ t: 'identity', identity })
    for (const json of late) next.appendLine(exchangeLine(json.toString()))
    next.flush()
    this.#journaled = lateSeqs
  }

  /** Writes the session, removes the journal and releases the lock. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    try {
      await this.checkpoint()
    } finally {
      this.#journal?.close()
      this.#journal = null
      if (existsSync(this.paths.journal) && statSync(this.paths.journal).size === 0) unlinkSync(this.paths.journal)
      this.lock.release()
    }
  }
}

/** Two lists of exchange texts as one, sorted by seq (each is mostly sorted already: seq follows request order). */
function mergeBySeq(a: ExchangeText[], b: ExchangeText[]): ExchangeText[] {
  const all = a.concat(b)
  for (let i = 1; i < all.length; i++) {
    if ((all[i - 1] as ExchangeText).seq > (all[i] as ExchangeText).seq) return all.sort((x, y) => x.seq - y.seq)
  }
  return all
}
