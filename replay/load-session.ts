/** Where a replay's session comes from: a Session object, a name in the sessions directory, or a file path. Read only. */
import { parseSession, type Session } from '../model/session.js'
import { sessionsDir } from '../store/paths.js'
import { resolveSessionRef, SessionStore } from '../store/store.js'

/**
 * Loads the session to replay, never writing it (file plus journal, as readers see it).
 * @param dir the sessions directory (default: $RELTAPE_DIR, else ./sessions)
 * @throws SessionNotFoundError listing the sessions that exist; SessionFormatError for a corrupt file
 */
export async function loadReplaySession(session: Session | string, dir?: string): Promise<{ session: Session; source: string }> {
  // A Session object from code is checked like a file, so that a hand-built one fails with a clear path.
  if (typeof session !== 'string') return { session: parseSession(session, `session object ${JSON.stringify(session?.name)}`), source: `(in memory: ${session.name})` }
  const store = new SessionStore(sessionsDir(dir))
  const loaded = await store.read(session)
  return { session: loaded, source: resolveSessionRef(store.dir, session).file }
}
