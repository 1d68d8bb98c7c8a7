/** Where a replay's session comes from: a Session object, a name in the sessions directory, or a file path. Read only. */
import type { Session } from '../model/session.js'
import { sessionsDir } from '../store/paths.js'
import { resolveSessionRef, SessionStore } from '../store/store.js'

/**
 * Loads the session to replay, never writing it (file plus journal, as readers see it).
 * @param dir the sessions directory (default: $RELTAPE_DIR, else ./sessions)
 * @throws SessionNotFoundError listing the sessions that exist; SessionFormatError for a corrupt file
 */
export async function loadReplaySession(session: Session | string, dir?: string): Promise<{ session: Session; source: string }> {
  if (typeof session !== 'string') return { session, source: `(in memory: ${session.name})` }
  const store = new SessionStore(sessionsDir(dir))
  const loaded = await store.read(session)
  return { session: loaded, source: resolveSessionRef(store.dir, session).file }
}
