/** Where a replay's session comes from: a Session object, a name in the sessions directory, a file path, or a HAR. Read only. */
import { parseSession, type Session } from '../model/session.js'
import { importHarToMemory } from '../store/har-import.js'
import { sessionsDir } from '../store/paths.js'
import { SessionStore } from '../store/store.js'
import { memorySource, readerSource, type RecordingSource } from './session-index.js'

/**
 * Opens the session to replay, never writing it (file plus journal, as readers see it; a journal left by a crash
 * is folded in first when the lock can be taken). Only rows are held; exchanges are read when served.
 * @param dir the sessions directory (default: $RELTAPE_DIR, else ./sessions)
 * @throws SessionNotFoundError listing the sessions that exist; SessionFormatError for a corrupt file
 */
export async function loadReplaySession(session: Session | string, dir?: string): Promise<{ source: RecordingSource; where: string }> {
  // A Session object from code is checked like a file, so that a hand-built one fails with a clear path.
  if (typeof session !== 'string') return { source: memorySource(parseSession(session, `session object ${JSON.stringify(session?.name)}`)), where: `(in memory: ${session.name})` }
  // A HAR (or Playwright zip) is imported in memory, as `reltape import` would read it; nothing is written.
  if (/\.(har|zip)$/i.test(session)) return { source: memorySource((await importHarToMemory(session)).session), where: session }
  const reader = await new SessionStore(sessionsDir(dir)).reader(session)
  return { source: readerSource(reader), where: reader.paths.file }
}
