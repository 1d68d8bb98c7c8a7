/** Files that hold live tokens or keys are created readable by their owner only. */
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs'

export const PRIVATE_FILE_MODE = 0o600
export const PRIVATE_DIR_MODE = 0o700

/** Creates the file empty with mode 0600 if missing, and tightens its mode if present. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE))
  chmodSync(path, PRIVATE_FILE_MODE)
}

/** Creates a directory (and parents); `private` gives it mode 0700. */
export function ensureDir(path: string, privateDir = false): void {
  mkdirSync(path, { recursive: true, mode: privateDir ? PRIVATE_DIR_MODE : 0o755 })
  if (privateDir) chmodSync(path, PRIVATE_DIR_MODE)
}
