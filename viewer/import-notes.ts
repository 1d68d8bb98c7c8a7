/**
 * What `reltape import` had to say about a session (a body the HAR omitted, a body that did not decode, …), kept
 * beside it in a hidden sidecar, `.<name>.import.json` (0600), so that the viewer can show it with the session.
 * The session file itself is untouched: readers that know nothing of the sidecar (the store's listing skips dot
 * files, replay, export) see no difference. The sidecar names the inode of the session file it was written for; a
 * session of the same name made later (the old one deleted) does not inherit its warnings.
 */
import { closeSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import { createPrivateFile } from '../store/private-file.js'

/** The sidecar's content. */
export type ImportNotes = { session: string; ino: number; warnings: string[] }

/** At most this many warnings are kept (an import of a huge HAR that omitted every body says so once per entry). */
export const MAX_KEPT_WARNINGS = 1000

export function importNotesPath(dir: string, session: string): string {
  return join(dir, `.${session}.import.json`)
}

/**
 * Writes the sidecar of a session just imported into `dir` (its file at `file`), or removes a stale one when the
 * import had nothing to say. Private (0600), created exclusively (no link followed).
 */
export function writeImportNotes(dir: string, session: string, file: string, warnings: readonly string[]): void {
  const path = importNotesPath(dir, session)
  rmSync(path, { force: true })
  if (warnings.length === 0) return
  const kept = warnings.slice(0, MAX_KEPT_WARNINGS)
  if (warnings.length > kept.length) kept.push(`… and ${warnings.length - kept.length} more (reltape import --json lists them all)`)
  const notes: ImportNotes = { session, ino: statSync(file).ino, warnings: kept }
  const fd = createPrivateFile(path, 0)
  try {
    const bytes = Buffer.from(`${JSON.stringify(notes, null, 2)}\n`)
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at)
  } finally {
    closeSync(fd)
  }
}

/** The warnings kept for a session, or null when there are none, the sidecar is unreadable, or it is another file's. */
export function readImportWarnings(dir: string, session: string, file: string): string[] | null {
  try {
    const notes = JSON.parse(readFileSync(importNotesPath(dir, session), 'utf8')) as Partial<ImportNotes>
    if (notes.session !== session || !Array.isArray(notes.warnings) || notes.ino !== statSync(file).ino) return null
    const warnings = notes.warnings.filter((w): w is string => typeof w === 'string')
    return warnings.length ? warnings : null
  } catch {
    return null
  }
}
