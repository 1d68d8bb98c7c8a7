/**
 * The lowdb adapter of a session file. A session is too large for lowdb's own adapters, which read and write
 * the whole document as one string; this one writes what is new (see session-append.ts) and reads through the
 * streaming reader. `new Low(new SessionFile(paths), …)` is how the writer stores a session, so the file stays
 * what lowdb would make of it: one JSON document.
 */
import { Low, type Adapter } from 'lowdb'
import type { SessionHead } from '../model/session.js'
import type { SessionPaths } from './paths.js'
import { appendToSessionFile, type AppendResult, type FileOnDisk, type JournalSpan } from './session-append.js'

/** What a write stores: the head as it is now, and the exchanges (journal lines) not yet in the file. */
export type SessionDocument = { head: SessionHead; disk: FileOnDisk; append: JournalSpan[] }

export class SessionFile implements Adapter<SessionDocument> {
  /** What the last write did: where the file's exchanges now end, and the rows of those it appended. */
  written: AppendResult | null = null

  constructor(readonly paths: SessionPaths) {}

  /** A session is read by SessionReader, a row at a time; lowdb never holds one whole. */
  async read(): Promise<SessionDocument | null> {
    return null
  }

  async write(doc: SessionDocument): Promise<void> {
    this.written = await appendToSessionFile(this.paths, doc.disk, doc.head, doc.append)
  }
}

/** Stores the head and the exchanges not yet in the file, through lowdb; returns what was written. */
export async function storeSession(paths: SessionPaths, doc: SessionDocument): Promise<AppendResult> {
  const adapter = new SessionFile(paths)
  const db = new Low<SessionDocument>(adapter, doc)
  await db.write()
  return adapter.written!
}
