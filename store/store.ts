/**
 * Sessions on disk: list, open for reading, open for writing. A session is `<name>.json` (one JSON document, one
 * exchange per line) plus, while it is recorded, `<name>.journal` (a line per exchange, appended at once); its
 * index `.<name>.index` is a cache of both. Readers see the file plus the journal; a journal whose recorder is
 * gone is folded into the file by the first opener that can take the lock.
 */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Exchange, Recording, Session } from '../model/session.js'
import type { SessionSummary } from '../model/summary.js'
import { acquireLock, lockIsLive, type LockHandle } from './lock.js'
import { pathsOfFile, sessionPaths, type SessionPaths } from './paths.js'
import { ensureDir } from './private-file.js'
import { SessionNotFoundError, SessionReader, summaryFromIndex } from './session-reader.js'
import { SessionWriter } from './session-writer.js'

export type { SessionSummary } from '../model/summary.js'
export { SessionNotFoundError, SessionReader } from './session-reader.js'
export { SessionWriter } from './session-writer.js'
export { tokenHash } from './token-hash.js'

/** Where a session name or a path to a session file points. */
export function resolveSessionRef(dir: string, ref: string): SessionPaths {
  if (ref.endsWith('.json') || ref.includes('/') || ref.includes('\\')) return pathsOfFile(resolve(ref))
  return sessionPaths(dir, ref)
}

/**
 * Reads a whole session (file plus journal) into memory, without locking or changing it. For small sessions
 * and tests; everything that may meet a large session reads it through `SessionReader` instead.
 */
export async function readSessionFiles(paths: SessionPaths): Promise<Session> {
  const reader = await SessionReader.open(paths)
  const exchanges: Exchange[] = []
  for await (const e of reader.exchanges()) exchanges.push(e)
  return { ...reader.head, exchanges }
}

/** True when the directory has an entry by that name, whatever it is (a link that loops, a directory): then opening it says what is wrong. */
function entryExists(path: string): boolean {
  try {
    lstatSync(path)
    return true
  } catch {
    return false
  }
}

function invalidSummary(name: string, file: string, files: string[], e: Error): SessionSummary {
  let updated = 0
  for (const f of files) {
    try {
      updated = Math.max(updated, statSync(f).mtimeMs)
    } catch {
      // missing, a loop, a name too long: no time to show
    }
  }
  return { name, file, exchanges: 0, errors: 0, identities: 0, createdAt: null, updatedAt: updated ? new Date(updated).toISOString() : null, invalid: e.message }
}

export type OpenOptions = {
  /** How the session is being recorded; used when it is created. */
  recording: Recording
  /** Told about stale locks taken over and torn journal lines. */
  warn?: (message: string) => void
}

const FOLDING: Recording = { tool: 'unknown', mode: 'forward', upstream: null }

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

  /** The paths of a session by name or file path; throws SessionNotFoundError listing what exists. */
  existing(ref: string): SessionPaths {
    const paths = resolveSessionRef(this.dir, ref)
    if (!entryExists(paths.file) && !entryExists(paths.journal)) {
      const inDir = dirname(paths.file) === this.dir
      throw new SessionNotFoundError(ref, dirname(paths.file), inDir ? this.names() : [])
    }
    return paths
  }

  /**
   * Opens a session for reading, by name or file path. A journal left by a crash is folded in first when the
   * lock can be taken (in a read-only directory it is read beside the file instead).
   */
  async reader(ref: string): Promise<SessionReader> {
    const paths = this.existing(ref)
    await this.foldAbandoned(paths)
    return SessionReader.open(paths)
  }

  /** Reads a whole session into memory (see `readSessionFiles`). */
  async read(ref: string): Promise<Session> {
    const paths = this.existing(ref)
    await this.foldAbandoned(paths)
    return readSessionFiles(paths)
  }

  /**
   * Folds a journal whose recorder is gone into its session file, under the lock; true when it did. Nothing
   * happens while a recorder holds the lock, or when the lock cannot be taken (a read-only directory).
   */
  async foldAbandoned(paths: SessionPaths, warn: (message: string) => void = () => {}): Promise<boolean> {
    if (!existsSync(paths.journal) || lockIsLive(paths.lock)) return false
    let lock: LockHandle
    try {
      lock = acquireLock(paths.lock, 'folding a journal left by a crash into its session', warn)
    } catch {
      return false
    }
    let writer: SessionWriter
    try {
      writer = await SessionWriter.start(paths, lock, FOLDING, warn)
    } catch (e) {
      // Folding is a convenience: when it cannot be done (a read-only directory, a file it must not write
      // through), readers still see the file and the journal, and the journal stays for the next try.
      lock.release()
      warn(`${paths.journal}: not folded into ${paths.file}: ${(e as Error).message}`)
      return false
    }
    await writer.close()
    return true
  }

  /** A summary of every session; one that cannot be read is listed with `invalid` set, not skipped. */
  async list(): Promise<SessionSummary[]> {
    const out: SessionSummary[] = []
    for (const name of this.names()) out.push(await this.summary(name))
    return out
  }

  /**
   * A session's summary: from its index alone when that is current, else by opening it (which writes the index).
   * Anything wrong with one entry (a name reltape would not give a session, a directory or a link loop where the
   * file should be, a damaged file) is listed as `invalid` with the reason, never an error for the whole list.
   */
  async summary(name: string): Promise<SessionSummary> {
    const file = join(this.dir, `${name}.json`)
    let paths: SessionPaths
    try {
      paths = this.paths(name)
    } catch (e) {
      return invalidSummary(name, file, [file], e as Error)
    }
    try {
      const fast = await summaryFromIndex(paths)
      if (fast) return fast
      await this.foldAbandoned(paths)
      return (await SessionReader.open(paths)).summary()
    } catch (e) {
      return invalidSummary(name, paths.file, [paths.file, paths.journal], e as Error)
    }
  }

  /**
   * Opens a session for writing, creating it if needed: takes the lock, folds a journal left by a crash, and
   * returns the writer. A corrupt file is an error and stays untouched.
   */
  async open(name: string, options: OpenOptions): Promise<SessionWriter> {
    const warn = options.warn ?? ((m: string) => process.emitWarning(m))
    const paths = this.paths(name)
    ensureDir(this.dir)
    const lock = acquireLock(paths.lock, `recording (${options.recording.tool})`, warn)
    try {
      return await SessionWriter.start(paths, lock, options.recording, warn)
    } catch (e) {
      lock.release()
      throw e
    }
  }
}
