/**
 * One writer per session: a lock file beside the session holding the writer's pid.
 * A lock whose process is gone (a crashed recorder) is taken over with a warning.
 */
import { lstatSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ReltapeError } from '../model/errors.js'
import { PRIVATE_FILE_MODE } from './private-file.js'

export type LockInfo = { pid: number; host: string; since: string; purpose: string }

export class SessionLockedError extends ReltapeError<'SESSION_LOCKED'> {
  constructor(
    readonly lockFile: string,
    readonly holder: LockInfo,
  ) {
    super('SESSION_LOCKED', { lockFile, holder })
    this.name = 'SessionLockedError'
  }
}

export type LockHandle = { release(): void }

/** True while a process of this pid runs (one of another user's counts: signalling it is only refused). */
function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Removes what processes that are gone left in `dir` (a temporary file, an import's folder, a private copy): `pidOf`
 * gives the pid an entry is named by, `null` for one of an older version that names none (always stale), or
 * `undefined` for an entry that is not such a leftover. Never this process's or a live one's, nor another user's; a
 * link is removed itself, never its target.
 */
export function removeLeftovers(dir: string, pidOf: (entry: string) => number | null | undefined): void {
  let entries: string[]
  try {
    entries = readdirSync(dir)
  } catch {
    return
  }
  for (const entry of entries) {
    const pid = pidOf(entry)
    if (pid === undefined || pid === process.pid || (pid !== null && processIsAlive(pid))) continue
    const path = join(dir, entry)
    try {
      if (lstatSync(path).uid !== process.getuid?.()) continue
      rmSync(path, { recursive: true, force: true })
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}

function readLock(file: string): LockInfo | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockInfo
  } catch {
    return null
  }
}

/** True when a lock file names a process that is still running (or one on another host, which cannot be checked). */
export function lockIsLive(file: string): boolean {
  const holder = readLock(file)
  if (!holder) return false
  return holder.host !== hostname() || processIsAlive(holder.pid)
}

/**
 * Takes the lock or throws SessionLockedError naming the holder.
 * @param warn told when a stale lock is taken over
 */
export function acquireLock(file: string, purpose: string, warn: (message: string) => void): LockHandle {
  const mine: LockInfo = { pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(file, JSON.stringify(mine), { flag: 'wx', mode: PRIVATE_FILE_MODE })
      return {
        release() {
          const current = readLock(file)
          if (current?.pid === process.pid) unlinkSync(file)
        },
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    const holder = readLock(file)
    if (holder && holder.host === mine.host && holder.pid !== process.pid && processIsAlive(holder.pid))
      throw new SessionLockedError(file, holder)
    if (holder && holder.host !== mine.host) throw new SessionLockedError(file, holder)
    if (holder?.pid === process.pid) throw new SessionLockedError(file, holder)
    warn(
      holder
        ? `taking over a stale lock ${file}: its process ${holder.pid} is gone`
        : `taking over an unreadable lock ${file}`,
    )
    try {
      unlinkSync(file)
    } catch {
      // another process took it over first; the next attempt sees its lock
    }
  }
  const holder = readLock(file)
  throw new SessionLockedError(file, holder ?? { pid: -1, host: '?', since: '?', purpose: 'unknown' })
}
