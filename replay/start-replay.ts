/**
 * The replay server for tests and scripts:
 *
 *   const replay = await startReplay({ session: 'checkout-flow' })
 *   // … point the client under test at replay.url …
 *   expect(replay.misses).toEqual([])
 *   expect(replay.unused()).toEqual([])
 *   await replay.close()
 */
import type { AddressInfo } from 'node:net'
import { listenError } from '../model/errors.js'
import type { Session, SessionHead } from '../model/session.js'
import { buildReplayApp } from './app.js'
import { loadReplaySession, openForRecordMissing } from './load-session.js'
import { describeRules, resolveRules, type ReplayRules, type ResolvedRules } from './options.js'
import type { MissRecorder } from './record-missing.js'
import type { MissCounts, ReplayMiss, ReplayState, UnusedRecording } from './replayer.js'

export type ReplayOptions = ReplayRules & {
  /** A Session object, a session name (looked up in `dir`) or a path to a session file. */
  session: Session | string
  /** The sessions directory for a session name. @default $RELTAPE_DIR, else ./sessions */
  dir?: string
  /** @default 0 (any free port) */
  port?: number
  /** The address to bind; also a Host name answered besides loopback names and the recorded hosts. @default '127.0.0.1' */
  host?: string
}

export type ReplayHandle = {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  url: string
  /**
   * Requests that no recording answered, in order: the latest `keepMisses` (1,000 by default) of them, all of them
   * until there are that many. A live array: it grows as misses happen, and then drops its oldest.
   * `missCounts()` says how many there were in all.
   */
  readonly misses: ReplayMiss[]
  /** Misses since the start (or the last reset): all of them, those kept in `misses`, and those only counted. */
  missCounts(): MissCounts
  /** Recordings never served. */
  unused(): UnusedRecording[]
  /** The seqs `record-missing` added to the session in this run, or the seqs of the new session in `refresh` mode (empty in `replay` mode). */
  recorded(): number[]
  /** What `GET /__reltape/state` answers. */
  state(): ReplayState
  /** Rewinds every queue, forgets what was used and missed. */
  reset(): void
  /** The session served (its head: name, recording, identities), and the rules in force (for a start banner). */
  readonly session: SessionHead
  /** Exchanges in the session. */
  readonly exchanges: number
  readonly source: string
  readonly rules: ResolvedRules
  /** Distinct keys served. */
  readonly keys: number
  describeRules(): string[]
  /**
   * Stops listening; in `record-missing` mode, then writes what was recorded into the session and releases its lock;
   * in `refresh` mode, replaces the session by the live answers (the old file kept as `<name>.before-refresh.json`).
   */
  close(): Promise<void>
}

/**
 * Loads the session, builds the app and listens. In the default `replay` mode it never contacts any upstream; in
 * `record-missing` mode it holds the session's lock until `close()` and forwards what the session lacks.
 */
export async function startReplay(options: ReplayOptions): Promise<ReplayHandle> {
  const rules = resolveRules(options)
  const host = options.host ?? '127.0.0.1'
  const port = options.port ?? 0
  let filler: MissRecorder | null = null
  let loaded
  if (rules.mode === 'record-missing' || rules.mode === 'refresh') {
    const opened = await openForRecordMissing(options.session, options.dir, rules)
    filler = opened.filler
    loaded = opened
  } else loaded = await loadReplaySession(options.session, options.dir)
  const { source: recordings, where: source } = loaded
  const release = 'release' in loaded ? loaded.release : undefined
  let built
  try {
    built = await buildReplayApp(recordings, rules, { host, filler })
  } catch (e) {
    await filler?.close()
    release?.()
    throw e
  }
  const { app, replayer, index } = built
  try {
    await app.listen({ port, host })
  } catch (e) {
    await app.close()
    await filler?.close()
    release?.()
    // PORT_IN_USE when the port is taken, LISTEN_FAILED otherwise: the same codes as every reltape server.
    throw listenError(host, port, e as NodeJS.ErrnoException)
  }
  const address = app.server.address() as AddressInfo
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
  return {
    url: `http://${urlHost}:${address.port}`,
    misses: replayer.misses,
    missCounts: () => replayer.missCounts(),
    unused: () => replayer.unused(),
    recorded: () => replayer.recorded(),
    state: () => replayer.state(),
    reset: () => replayer.reset(),
    session: recordings.head,
    exchanges: recordings.rows.length,
    source,
    rules,
    keys: index.queues.size,
    describeRules: () => describeRules(rules),
    close: async () => {
      try {
        await app.close()
      } finally {
        try {
          await filler?.close()
        } finally {
          release?.()
        }
      }
    },
  }
}
