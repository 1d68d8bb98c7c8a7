/**
 * Files that hold live tokens or keys are created readable by their owner only, exclusively, and never through a
 * symbolic link: a link planted where reltape is about to create a file would otherwise make it write (tokens) to
 * the link's target. A file replaced whole (a session rewritten, a journal, an index) is written the same way under
 * a temporary name, then renamed over the old one (replaceFile).
 */
import { chmodSync, closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync } from 'node:fs'
import { chmod, copyFile, open, rename, rm, type FileHandle } from 'node:fs/promises'
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
    throw linkRefusal(path, e)
  }
}

/** The same as createPrivateFile, for writing at positions through a handle. */
async function openPrivateFile(path: string): Promise<FileHandle> {
  try {
    return await open(path, CREATE_EXCLUSIVE, PRIVATE_FILE_MODE)
  } catch (e) {
    throw linkRefusal(path, e)
  }
}

/** A failed exclusive creation: PlantedLinkError when a link stands there, else the error as it is. */
function linkRefusal(path: string, e: unknown): unknown {
  return (e as NodeJS.ErrnoException).code === 'EEXIST' && isLink(path) ? new PlantedLinkError(path) : e
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

export type ReplaceOptions = {
  /**
   * Sync the new file before the rename and the directory after it, so that the replacement survives a power
   * loss: for a file whose loss loses data (a session, a journal), not for a cache that is rebuilt (an index).
   */
  durable: boolean
  /** Start from a copy of the file being replaced (to change its end without writing again the bytes that stay). */
  copy?: boolean
}

/**
 * Replaces `file` whole: `write` fills a private temporary file beside it (see tempNameFor; created exclusively,
 * owner-only, never through a link), which is then renamed over `file`, so that a reader sees the old file or the
 * new, never half of one. On failure the temporary file is removed, `file` stays as it was and the error is thrown.
 */
export async function replaceFile<T>(file: string, write: (handle: FileHandle) => Promise<T>, options: ReplaceOptions): Promise<T> {
  const tmp = tempNameFor(file)
  let handle: FileHandle | undefined
  try {
    if (options.copy) {
      // COPYFILE_EXCL creates the copy exclusively (never through a link); it is made private before it is written.
      await copyFile(file, tmp, constants.COPYFILE_EXCL)
      await chmod(tmp, PRIVATE_FILE_MODE)
      handle = await open(tmp, 'r+')
    } else handle = await openPrivateFile(tmp)
    const result = await write(handle)
    if (options.durable) await handle.sync()
    await handle.close()
    handle = undefined
    await rename(tmp, file)
    // The rename is made durable too: a caller may remove something on the strength of it (a folded journal).
    if (options.durable) syncDir(dirname(file))
    return result
  } catch (e) {
    await handle?.close().catch(() => undefined)
    await rm(tmp, { force: true }).catch(() => undefined)
    throw e
  }
}
