/** Where reltape keeps things on disk: the sessions directory and its home (the CA). */
import { homedir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { ReltapeError } from '../model/errors.js'
import { checkSessionName } from '../model/session.js'

/** The sessions directory: `--dir`, else `RELTAPE_DIR`, else `./sessions`. */
export function sessionsDir(flag?: string): string {
  return resolve(flag ?? process.env.RELTAPE_DIR ?? 'sessions')
}

/** reltape's home, holding the CA: `RELTAPE_HOME`, else `~/.reltape`. */
export function reltapeHome(): string {
  return resolve(process.env.RELTAPE_HOME ?? join(homedir(), '.reltape'))
}

/** Thrown for a session name that is not a plain name (`../x`, `a/b`, empty). */
export class SessionNameError extends ReltapeError<'SESSION_NAME_INVALID'> {
  constructor(problem: string) {
    super('SESSION_NAME_INVALID', { problem })
    this.name = 'SessionNameError'
  }
}

/** The files of one session: the session, the journal of a recording under way, its lock, and its index (a cache). */
export type SessionPaths = { name: string; file: string; journal: string; lock: string; index: string }

/** The paths of the session whose file is `file` (`<dir>/<name>.json`). */
export function pathsOfFile(file: string): SessionPaths {
  const name = basename(file).replace(/\.json$/, '')
  const dir = dirname(file)
  return { name, file, journal: join(dir, `${name}.journal`), lock: join(dir, `${name}.lock`), index: join(dir, `.${name}.index`) }
}

/** A session name as given, once it is checked to be a plain name (SessionNameError otherwise): before the disk is touched. */
export function checkedSessionName(name: string): string {
  const problem = checkSessionName(name)
  if (problem) throw new SessionNameError(problem)
  return name
}

/** The files of one session in a directory; refuses names with path segments. */
export function sessionPaths(dir: string, name: string): SessionPaths {
  return pathsOfFile(join(dir, `${checkedSessionName(name)}.json`))
}

/** A default session name from the local date and time, e.g. `2026-11-24_23-49-19`. */
export function defaultSessionName(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}_${p(now.getHours())}-${p(now.getMinutes())}-${p(now.getSeconds())}`
}
