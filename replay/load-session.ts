/**
 * Where a replay's session comes from: a Session object, a name in the sessions directory, a file path, or a HAR.
 * Read only, except in `record-missing` mode, which opens a session on disk for writing too.
 */
import { basename, dirname, resolve } from 'node:path'
import { parseSession, type Session } from '../model/session.js'
import { HarViews } from '../store/har-view.js'
import { sessionsDir } from '../store/paths.js'
import { sessionIsRedacted } from '../store/redact.js'
import { SessionReader, SessionStore } from '../store/store.js'
import { UpstreamClient } from '../store/upstream-client.js'
import { CaFileError, ownCaPem, readCaFiles } from '../store/upstream-options.js'
import { toolName } from '../store/version.js'
import { ReplayOptionError, type ResolvedRules } from './options.js'
import { MissRecorder } from './record-missing.js'
import { openRefresh } from './refresh.js'
import { memorySource, readerSource, type RecordingSource } from './session-index.js'

/**
 * Opens the session to replay, never writing it (file plus journal, as readers see it; a journal left by a crash
 * is folded in first when the lock can be taken). Only rows are held; exchanges are read when served.
 * @param dir the sessions directory (default: $RELTAPE_DIR, else ./sessions)
 * @throws SessionNotFoundError listing the sessions that exist; SessionFormatError for a corrupt file
 */
export async function loadReplaySession(session: Session | string, dir?: string): Promise<LoadedSession> {
  // A Session object from code is checked like a file, so that a hand-built one fails with a clear path.
  if (typeof session !== 'string') return { source: memorySource(parseSession(session, `session object ${JSON.stringify(session?.name)}`)), where: `(in memory: ${session.name})` }
  if (/\.(har|zip)$/i.test(session)) return loadHar(session)
  const reader = await new SessionStore(sessionsDir(dir)).reader(session)
  return { source: readerSource(reader), where: reader.paths.file }
}

/** A session to replay, where it came from, and what to remove when the replay stops. */
export type LoadedSession = { source: RecordingSource; where: string; release?: () => void }

/**
 * A HAR (or Playwright zip) is imported as `reltape import` would, into a private directory of this process that
 * `release` removes (the viewer reads a HAR the same way): read there through the SessionReader, a HAR of any
 * size is replayed without being held in memory. The HAR itself is never written.
 */
async function loadHar(file: string): Promise<LoadedSession> {
  const path = resolve(file)
  const views = new HarViews(dirname(path))
  try {
    const reader = await SessionReader.open(await views.paths(basename(path)))
    return { source: readerSource(reader), where: file, release: () => views.close() }
  } catch (e) {
    views.close()
    throw e
  }
}

/**
 * `record-missing`: the session on disk, opened for writing (its lock taken, a journal left by a crash folded in)
 * and read as replay reads it; the upstream client trusts what the rules say. Nothing is opened when an option is
 * wrong (a CA file that cannot be read, a session that is not on disk).
 */
export async function openForRecordMissing(session: Session | string, dir: string | undefined, rules: ResolvedRules): Promise<{ source: RecordingSource; where: string; filler: MissRecorder }> {
  if (typeof session !== 'string' || /\.(har|zip)$/i.test(session))
    throw new ReplayOptionError('mode', `mode "${rules.mode}" records into a session on disk: give its name or its .json file, not a Session object or a HAR`)
  let caPems: string[]
  try {
    caPems = await readCaFiles(rules.upstreamCaFiles)
  } catch (e) {
    throw e instanceof CaFileError ? new ReplayOptionError('upstreamCaFiles', e.message) : e
  }
  const own = !rules.insecureUpstream && rules.trustOwnCA ? await ownCaPem(rules.home) : null
  if (own) caPems.push(own)
  const paths = new SessionStore(sessionsDir(dir)).existing(session)
  if (rules.mode === 'refresh') {
    const client = new UpstreamClient({ caPems, insecure: rules.insecureUpstream })
    try {
      const { filler, reader } = await openRefresh(paths, rules, client)
      return { source: readerSource(reader), where: reader.paths.file, filler }
    } catch (e) {
      await client.close()
      throw e
    }
  }
  const writer = await new SessionStore(dirname(paths.file)).open(paths.name, {
    recording: { tool: toolName, mode: 'reverse', upstream: rules.upstream },
    warn: (m) => rules.log?.(`WARN ${m}`),
  })
  try {
    const reader = await SessionReader.open(paths)
    const redact = await sessionIsRedacted(reader)
    const client = new UpstreamClient({ caPems, insecure: rules.insecureUpstream })
    return { source: readerSource(reader), where: reader.paths.file, filler: new MissRecorder(writer, client, rules.upstream!, redact) }
  } catch (e) {
    await writer.close()
    throw e
  }
}
