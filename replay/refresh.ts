/**
 * `refresh`: every request goes to the upstream and is answered live; its exchange is journaled into a new session
 * written by the store's writer in a hidden directory beside the sessions (`.refresh-<name>-<pid>/<name>.json`, so
 * the session's own name is in its head and nothing half-written is ever listed). The old session's lock is held
 * for the whole run, so nothing else records into it. At `close()`, once the new file is complete and folded:
 * the old file is copied to `<name>.before-refresh.json` (a complete copy first), then the new file is renamed over
 * the old one (one atomic step: the name always holds a whole session), and the stale index is removed. When no call
 * was answered, nothing is replaced: a refresh that saw no traffic must not empty a session.
 */
import { chmodSync, constants, copyFileSync, existsSync, mkdirSync, renameSync, rmSync, unlinkSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { acquireLock, type LockHandle } from '../store/lock.js'
import { pathsOfFile, type SessionPaths } from '../store/paths.js'
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, tempNameFor } from '../store/private-file.js'
import { sessionIsRedacted } from '../store/redact.js'
import { SessionReader, SessionStore, type SessionWriter } from '../store/store.js'
import type { UpstreamClient } from '../store/upstream-client.js'
import { toolName } from '../store/version.js'
import type { ResolvedRules } from './options.js'
import { MissRecorder } from './record-missing.js'

/** The name of the copy kept of a refreshed session's previous file. */
export function beforeRefreshName(name: string): string {
  return `${name}.before-refresh`
}

export class RefreshRecorder extends MissRecorder {
  #finishing: Promise<void> | null = null
  #answered = 0

  constructor(
    writer: SessionWriter,
    client: UpstreamClient,
    upstream: string,
    /** The session being refreshed. */
    readonly target: SessionPaths,
    /** Its lock, held since opening. */
    readonly targetLock: LockHandle,
    /** The hidden directory the new session is written in. */
    readonly workDir: string,
    readonly log: ((line: string) => void) | null,
    redact: boolean,
  ) {
    super(writer, client, upstream, redact)
  }

  override async fill(live: Parameters<MissRecorder['fill']>[0]): ReturnType<MissRecorder['fill']> {
    const filled = await super.fill(live)
    if (filled.exchange) this.#answered++
    return filled
  }

  /** Closes the new session, puts it in place of the old one (kept as `<name>.before-refresh.json`), releases the lock. Once. */
  override close(): Promise<void> {
    this.#finishing ??= this.#finish()
    return this.#finishing
  }

  async #finish(): Promise<void> {
    try {
      await super.close()
      if (this.#answered === 0) {
        this.log?.(`REFRESH nothing was answered live: ${this.target.file} is left as it was`)
        return
      }
      const fresh = this.writer.paths
      const keep = join(dirname(this.target.file), `${beforeRefreshName(this.target.name)}.json`)
      const keepPaths = pathsOfFile(keep)
      // The copy is complete before the name changes: at every moment both names hold a whole session. It is made
      // under a random name, exclusively (a link planted there is refused, never written through), owner-only.
      const copy = tempNameFor(keep)
      copyFileSync(this.target.file, copy, constants.COPYFILE_EXCL)
      chmodSync(copy, PRIVATE_FILE_MODE)
      renameSync(copy, keep)
      if (existsSync(keepPaths.index)) unlinkSync(keepPaths.index)
      renameSync(fresh.file, this.target.file)
      if (existsSync(this.target.index)) unlinkSync(this.target.index)
      if (existsSync(fresh.index)) renameSync(fresh.index, this.target.index)
      this.log?.(`REFRESH ${this.target.file}: replaced by ${this.#answered} live exchange(s); the previous file is kept as ${keep}`)
    } finally {
      rmSync(this.workDir, { recursive: true, force: true })
      this.targetLock.release()
    }
  }
}

/**
 * Opens the refresh of a session on disk: folds a journal left by a crash, takes the session's lock, and starts the
 * new session's writer in a hidden directory beside it. Gives the session's reader too (opened once the journal is
 * folded and the lock taken), which replay reads it through. Throws (with nothing left behind) when any step fails.
 */
export async function openRefresh(paths: SessionPaths, rules: ResolvedRules, client: UpstreamClient): Promise<{ filler: RefreshRecorder; reader: SessionReader }> {
  const warn = (m: string) => rules.log?.(`WARN ${m}`)
  const store = new SessionStore(dirname(paths.file))
  await store.foldAbandoned(paths, warn)
  const lock = acquireLock(paths.lock, `refreshing from ${rules.upstream} (${toolName})`, warn)
  const workDir = join(dirname(paths.file), `.refresh-${paths.name}-${process.pid}`)
  try {
    // Read first: a session that cannot be read fails before the new one's writer is opened.
    const reader = await SessionReader.open(paths)
    // A session recorded redacted is refreshed redacted: its live tokens never reach the new file.
    const redact = await sessionIsRedacted(reader)
    rmSync(workDir, { recursive: true, force: true })
    // Not recursive: a directory (or a link to one) that appeared there meanwhile is refused, not written into.
    mkdirSync(workDir, { mode: PRIVATE_DIR_MODE })
    const writer = await new SessionStore(workDir).open(paths.name, { recording: { tool: toolName, mode: 'reverse', upstream: rules.upstream }, warn })
    return { filler: new RefreshRecorder(writer, client, rules.upstream!, paths, lock, workDir, rules.log, redact), reader }
  } catch (e) {
    rmSync(workDir, { recursive: true, force: true })
    lock.release()
    throw e
  }
}
