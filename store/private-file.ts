/**
 * Files that hold live tokens or keys are created readable by their owner only, exclusively, and never through a
 * symbolic link: a link planted where reltape is about to create a file would otherwise make it write (tokens) to
 * the link's target.
 */
import { chmodSync, closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { basename, dirname, join } from 'node:path'
import { ReltapeError } from '../model/errors.js'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Open flags of a file reltape creates: it must not exist yet (not even as a dangling link), and links are not followed. */
export const CREATE_EXCLUSIVE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW

/** A file reltape was about to create already exists there as a symbolic link: refused, naming it. */
export class PlantedLinkError extends ReltapeError<'FILE_IS_LINK'> {
  constructor(readonly file: string) {
    super('FILE_IS_LINK', { file })
    this.name = 'PlantedLinkError'
  }
}

/** Creates a new private file for appending (exclusive, no link followed); returns its descriptor. */
export function createPrivateFile(path: string, extraFlags = constants.O_APPEND): number {
  try {
    return openSync(path, CREATE_EXCLUSIVE | extraFlags, PRIVATE_FILE_MODE)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' && isLink(path)) throw new PlantedLinkError(path)
    throw e
  }
}

/** True when `path` is a symbolic link (dangling or not). */
export function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/** Makes a rename or an unlink in `dir` durable: the directory's own entry list is flushed to disk. */
export function syncDir(dir: string): void {
  let fd: number
  try {
    fd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY)
  } catch {
    return
  }
  try {
    fsyncSync(fd)
  } catch {
    // some file systems refuse fsync on a directory; the data itself was synced
  } finally {
    closeSync(fd)
  }
}

/**
 * The name of a new temporary file beside `file` (`.<name>.<pid>.<random>.tmp`): hidden, unique to this process and
 * attempt, and marked with the pid so that a later writer can tell a crashed writer's leftover (removeStaleTemps).
 */
export function tempNameFor(file: string): string {
  return join(dirname(file), `.${basename(file).replace(/^\./, '')}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
}

/** Creates a directory (and parents); `private` gives it mode 0700. */
export function ensureDir(path: string, privateDir = false): void {
  mkdirSync(path, { recursive: true, mode: privateDir ? PRIVATE_DIR_MODE : 0o755 })
  if (privateDir) chmodSync(path, PRIVATE_DIR_MODE)
}
