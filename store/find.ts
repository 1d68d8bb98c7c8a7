/**
 * `reltape find`: where an entity, an Id, an envelope's `Error.Code` or a string appears across the sessions of a
 * directory. Entities, Ids and error codes come from each session's entity index (store/entity-index.ts): when it is
 * current, only its header and the lines of the entities asked for are read (only the header, to count matches past
 * those listed), and the session itself is not opened. Text is found by streaming the exchanges through the
 * SessionReader (bodies are never indexed).
 */
import { findInEntities, findText, parseEntityKey, type EntityConfig, type EntityIndex, type EntityMatch } from '../model/entities.js'
import { relKey } from '../model/rels.js'
import { matchesOfLine, openEntitiesFile, unpackErrorCalls, type EntitiesFile, type EntitiesHeader } from './entity-file.js'
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
  /** Stops the search (between sessions, and between the exchanges a text search reads) with the signal's reason. */
  signal?: AbortSignal
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

/** The session's index file when it is current for the session as it is on disk and for this config; else null. */
async function openCurrent(store: SessionStore, name: string, hash: string): Promise<{ file: string; opened: EntitiesFile } | null> {
  const paths = store.paths(name)
  const file = entitiesPath(paths)
  const opened = await openEntitiesFile(file)
  if (!opened) return null
  let current = false
  try {
    const { header } = opened
    if (header.config !== hash) return null
    const [fileStamp, journalStamp] = await Promise.all([stampOf(paths.file), stampOf(paths.journal)])
    current = sameStamp(fileStamp, header.file) && sameStamp(journalStamp, header.journal)
  } finally {
    if (!current) await opened.close()
  }
  return current ? { file, opened } : null
}

/**
 * A query's matches from a current index file: the header and the lines of the entities asked for; null when the
 * file does not hold those lines (then the session is opened).
 */
async function matchesInFile(name: string, file: string, opened: EntitiesFile, query: string): Promise<FindMatch[] | null> {
  const { header } = opened
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
  return inSession(all)
}

/**
 * How many matches a query has in a session, from its current index file's header alone: the sum of the counts of
 * the entities asked for, and the error calls. A sum, because the matches of two entities never coincide: a carry
 * names its own entity, and a place that refers holds one Id, read one way. Null when the header cannot tell (an
 * index written before it counted; a key holding another `#`, whose Id only its line says).
 */
function countInHeader(header: EntitiesHeader, query: string): number | null {
  const counts = header.matches
  if (!counts || counts.length !== header.keys.length) return null
  const parsed = parseEntityKey(query)
  if (parsed) {
    const i = header.keys.indexOf(relKey(parsed.type, parsed.id))
    return i >= 0 ? counts[i]! : 0
  }
  let count = 0
  for (let i = 0; i < header.keys.length; i++) {
    const key = header.keys[i]!
    if (!key.endsWith(`#${query}`)) continue
    if (key.indexOf('#') !== key.length - query.length - 1) return null
    count += counts[i]!
  }
  if (Object.hasOwn(header.errors, query)) count += header.errors[query]!.length / 2
  return count
}

/** One session's part of a search: its matches in order, or only how many when the caller has what it lists. */
type SessionPart = { count: number; matches: FindMatch[] | null }

/** A session's part from its current index file; null when it has none (then the session is opened). */
async function partFromFile(store: SessionStore, name: string, hash: string, query: string, countOnly: boolean): Promise<SessionPart | null> {
  const current = await openCurrent(store, name, hash)
  if (!current) return null
  try {
    const count = countOnly ? countInHeader(current.opened.header, query) : null
    if (count !== null) return { count, matches: null }
    const matches = await matchesInFile(name, current.file, current.opened, query)
    return matches && { count: matches.length, matches }
  } finally {
    await current.opened.close()
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
  for await (const { matches } of searchSessions(store, query, config, options, () => false)) yield matches!
}

/**
 * The first `limit` matches of `findInSessions` and how many there are in all (what the viewer's search box shows).
 * Past the first, a session's matches are counted from its entity index's header, without reading its lines or
 * making the matches; text matches are counted by reading the bodies again, as nothing indexes them.
 */
export async function findFirst(store: SessionStore, query: string, config: EntityConfig | undefined, limit: number, options: FindOptions = {}): Promise<{ first: FindMatch[]; total: number }> {
  const first: FindMatch[] = []
  let total = 0
  for await (const { count, matches } of searchSessions(store, query, config, options, () => first.length >= limit)) {
    total += count
    if (matches) for (const m of matches.slice(0, limit - first.length)) first.push(m)
  }
  return { first, total }
}

/** Each session's part of a search that has matches, in order; `countOnly` says when only the count is wanted. */
async function* searchSessions(store: SessionStore, query: string, config: EntityConfig | undefined, options: FindOptions, countOnly: () => boolean): AsyncGenerator<SessionPart> {
  const warn = options.warn ?? (() => {})
  const { signal } = options
  if (options.session !== undefined) store.existing(options.session) // SESSION_NOT_FOUND, listing what there is
  const names = options.session !== undefined ? [options.session] : store.names() // sorted
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
    signal?.throwIfAborted()
    let part = await partFromFile(store, name, hash, query, countOnly()).catch(() => null)
    if (part === null) {
      const reader = await open(name)
      if (!reader) continue
      const matches = inSession(inIndex(name, (await loadEntityIndex(reader, config)).index, query))
      part = { count: matches.length, matches }
    }
    readable.push(name)
    if (part.count === 0) continue
    found = true
    yield part
  }
  if (found || parseEntityKey(query)) return
  // Text: only when no Id or code matched anywhere.
  for (const name of readable) {
    signal?.throwIfAborted()
    const reader = await open(name)
    if (!reader) continue
    const out: FindMatch[] = []
    for await (const exchange of reader.exchanges()) {
      signal?.throwIfAborted()
      out.push(...inNamed(name, findText(exchange, query, config)))
    }
    const matches = inSession(out)
    if (matches.length > 0) yield { count: matches.length, matches }
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

/**
 * The text of `reltape find --json` (and of the viewer's every-match answer): a JSON array, a match a line, made a
 * session's matches at a time as they come, so that it is never held whole.
 */
export async function* matchesJsonText(sessions: AsyncIterable<FindMatch[]>): AsyncGenerator<string> {
  const matchJson = matchJsonWriter()
  let sep = '\n  '
  yield '['
  for await (const matches of sessions) {
    const parts: string[] = []
    for (const m of matches) {
      parts.push(sep, matchJson(m))
      sep = ',\n  '
    }
    yield parts.join('')
  }
  yield sep === '\n  ' ? ']' : '\n]'
}
