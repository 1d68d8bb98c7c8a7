/**
 * `reltape find`: where an entity, an Id, an envelope's `Error.Code` or a string appears across the sessions of a
 * directory. Entities, Ids and error codes come from each session's entity index (store/entity-index.ts): when it is
 * current, only its header and the lines of the entities asked for are read, and the session itself is not opened.
 * Text is found by streaming the exchanges through the SessionReader (bodies are never indexed).
 */
import { findInEntities, findText, parseEntityKey, type EntityConfig, type EntityIndex, type EntityMatch } from '../model/entities.js'
import { relKey } from '../model/rels.js'
import { matchesOfLine, openEntitiesFile, unpackErrorCalls } from './entity-file.js'
import { configHash, entitiesPath, loadEntityIndex } from './entity-index.js'
import { sameStamp, stampOf, type SessionReader } from './session-reader.js'
import type { SessionStore } from './store.js'

/** One match, as `reltape find --json` prints it (a contract). */
export type FindMatch = { session: string; seq: number; where: string; entity?: string }

export type FindOptions = {
  /** Only this session. @default every session in the directory */
  session?: string
  /** Told about a session that cannot be read (it is skipped, the others searched). @default silent */
  warn?: (message: string) => void
}

/** Matches of one session, in seq order (stable: as found within a call), without repeats. */
function inSession(matches: FindMatch[]): FindMatch[] {
  matches.sort((a, b) => a.seq - b.seq)
  const out: FindMatch[] = []
  let runStart = 0
  for (const m of matches) {
    if (out.length > 0 && out[out.length - 1]!.seq !== m.seq) runStart = out.length
    let repeat = false
    for (let i = runStart; i < out.length && !repeat; i++) repeat = out[i]!.where === m.where && out[i]!.entity === m.entity
    if (!repeat) out.push(m)
  }
  return out
}

function inNamed(session: string, matches: readonly EntityMatch[]): FindMatch[] {
  return matches.map((m) => (m.entity !== undefined ? { session, seq: m.seq, where: m.where, entity: m.entity } : { session, seq: m.seq, where: m.where }))
}

/** A query's matches in an index held in memory. */
function inIndex(session: string, index: EntityIndex, query: string): FindMatch[] {
  const all = inNamed(session, findInEntities(index, query))
  if (!parseEntityKey(query)) for (const c of index.errorCalls(query)) all.push({ session, seq: c.seq, where: c.where })
  return all
}

/**
 * A query's matches from the session's index file, when it is current for the session as it is on disk and for
 * this config: the header and the lines of the entities asked for. Null when it is not (then the session is opened).
 */
async function inIndexFile(store: SessionStore, name: string, hash: string, query: string): Promise<FindMatch[] | null> {
  const paths = store.paths(name)
  const file = entitiesPath(paths)
  const opened = await openEntitiesFile(file)
  if (!opened) return null
  try {
    const { header } = opened
    if (header.config !== hash) return null
    const [fileStamp, journalStamp] = await Promise.all([stampOf(paths.file), stampOf(paths.journal)])
    if (!sameStamp(fileStamp, header.file) || !sameStamp(journalStamp, header.journal)) return null
    const parsed = parseEntityKey(query)
    const wanted: number[] = []
    if (parsed) {
      const i = header.keys.indexOf(relKey(parsed.type, parsed.id))
      if (i >= 0) wanted.push(i)
    } else {
      header.keys.forEach((key, i) => {
        if (key.endsWith(`#${query}`)) wanted.push(i)
      })
    }
    const lines = await opened.lines(wanted)
    if (lines === null) return null
    // An Id query asked for every key ending in `#Id`; the line's own Id says which are that Id (a type may hold `#`).
    const entities = lines.map((line) => matchesOfLine(line, file, name)).filter((e) => parsed || String(e.id) === query)
    const all: FindMatch[] = []
    for (const e of entities) for (const list of [e.carried, e.referenced]) for (const m of list) all.push(m)
    // Own keys only: a query such as `constructor` must not find what every object inherits.
    const errors = Object.hasOwn(header.errors, query) ? header.errors[query]! : []
    if (!parsed) for (const c of unpackErrorCalls(errors)) all.push({ session: name, seq: c.seq, where: c.where })
    return all
  } finally {
    await opened.close()
  }
}

/**
 * The matches of a query, in session then seq order. `Type#Id` finds the calls that carried that entity and those
 * that referred to it; another query finds entities with that Id and calls with that `Error.Code`, and when neither
 * appears anywhere, the string values inside request and response bodies that contain it (ignoring case).
 */
export async function findInSessions(store: SessionStore, query: string, config?: EntityConfig, options: FindOptions = {}): Promise<FindMatch[]> {
  const out: FindMatch[] = []
  for await (const matches of findEachSession(store, query, config, options)) for (const m of matches) out.push(m)
  return out
}

/**
 * `findInSessions`' matches a session at a time, in the same order (sessions by name, then seq), so a caller can send
 * them on as they come: one session's matches are held at once, never every session's (`reltape find` prints them as
 * they come; the viewer's `GET /api/find` streams its answer from this).
 */
export async function* findEachSession(store: SessionStore, query: string, config?: EntityConfig, options: FindOptions = {}): AsyncGenerator<FindMatch[]> {
  const warn = options.warn ?? (() => {})
  if (options.session !== undefined) store.existing(options.session) // SESSION_NOT_FOUND, listing what there is
  const names = [...(options.session !== undefined ? [options.session] : store.names())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const hash = configHash(config)
  const open = async (name: string): Promise<SessionReader | null> => {
    try {
      return await store.reader(name)
    } catch (e) {
      if (options.session !== undefined) throw e
      warn(`${name}: skipped: ${(e as Error).message}`)
      return null
    }
  }
  const readable: string[] = []
  let found = false
  for (const name of names) {
    let matches = await inIndexFile(store, name, hash, query).catch(() => null)
    if (matches === null) {
      const reader = await open(name)
      if (!reader) continue
      matches = inIndex(name, (await loadEntityIndex(reader, config)).index, query)
    }
    readable.push(name)
    if (matches.length === 0) continue
    found = true
    yield inSession(matches)
  }
  if (found || parseEntityKey(query)) return
  // Text: only when no Id or code matched anywhere.
  for (const name of readable) {
    const reader = await open(name)
    if (!reader) continue
    const out: FindMatch[] = []
    for await (const exchange of reader.exchanges()) out.push(...inNamed(name, findText(exchange, query, config)))
    if (out.length > 0) yield inSession(out)
  }
}

/**
 * `JSON.stringify(match)`, the same text, without walking each match: a session's matches repeat a few paths and
 * entities thousands of times, so the text after the seq is made once per (where, entity).
 */
export function matchJsonWriter(): (m: FindMatch) => string {
  const heads = new Map<string, string>()
  const tails = new Map<string, Map<string | undefined, string>>()
  return (m) => {
    let head = heads.get(m.session)
    if (head === undefined) heads.set(m.session, (head = `{"session":${JSON.stringify(m.session)},"seq":`))
    let byEntity = tails.get(m.where)
    let tail = byEntity?.get(m.entity)
    if (tail === undefined) {
      tail = `,"where":${JSON.stringify(m.where)}${m.entity !== undefined ? `,"entity":${JSON.stringify(m.entity)}` : ''}}`
      // Text matches can name a path per match: what is remembered is bounded.
      if (byEntity === undefined && tails.size < 100_000) tails.set(m.where, (byEntity = new Map()))
      if (byEntity !== undefined && byEntity.size < 1_000) byEntity.set(m.entity, tail)
    }
    return head + m.seq + tail
  }
}
