/**
 * `reltape find`: where an entity, an Id, an envelope's `Error.Code` or a string appears across the sessions of a
 * directory. Entities and Ids come from each session's entity index (store/entity-index.ts); error codes from the
 * session index's rows; text by streaming the exchanges through the SessionReader (bodies are never indexed).
 */
import { findInEntities, findText, parseEntityKey, type EntityConfig, type EntityMatch } from '../model/entities.js'
import { asEnvelope } from '../model/envelope.js'
import { loadEntityIndex } from './entity-index.js'
import type { SessionReader } from './session-reader.js'
import type { SessionStore } from './store.js'

/** One match, as `reltape find --json` prints it (a contract). */
export type FindMatch = { session: string; seq: number; where: string; entity?: string }

export type FindOptions = {
  /** Only this session. @default every session in the directory */
  session?: string
  /** Told about a session that cannot be read (it is skipped, the others searched). @default silent */
  warn?: (message: string) => void
}

function withSession(session: string, matches: EntityMatch[]): FindMatch[] {
  return matches.map((m) => (m.entity !== undefined ? { session, seq: m.seq, where: m.where, entity: m.entity } : { session, seq: m.seq, where: m.where }))
}

/** Calls whose envelope's `Error.Code` (else its text, as the list shows it) is the query. */
async function errorMatches(session: string, reader: SessionReader, query: string): Promise<FindMatch[]> {
  const out: FindMatch[] = []
  for (const row of reader.rows) {
    if (row.summary.errorCode !== query) continue
    const exchange = await reader.exchange(row.summary.seq)
    const body = exchange.response?.body
    const error = body?.kind === 'json' ? asEnvelope(body.json)?.Error : undefined
    const code = typeof error === 'object' && error !== null ? (error as Record<string, unknown>).Code : undefined
    out.push({ session, seq: row.summary.seq, where: code !== undefined && String(code) === query ? 'Error.Code' : 'Error' })
  }
  return out
}

/**
 * The matches of a query, in session then seq order. `Type#Id` finds the calls that carried that entity and those
 * that referred to it; another query finds entities with that Id and calls with that `Error.Code`, and when neither
 * appears anywhere, the string values inside request and response bodies that contain it (ignoring case).
 */
export async function findInSessions(store: SessionStore, query: string, config?: EntityConfig, options: FindOptions = {}): Promise<FindMatch[]> {
  const out: FindMatch[] = []
  for await (const matches of findEachSession(store, query, config, options)) out.push(...matches)
  return out
}

/**
 * `findInSessions`' matches a session at a time, in the same order (sessions by name, then seq), so a caller can send
 * them on as they come: one session's reader, entity index and matches are held at once, never every session's (the
 * viewer's `GET /api/find` streams its answer from this).
 */
export async function* findEachSession(store: SessionStore, query: string, config?: EntityConfig, options: FindOptions = {}): AsyncGenerator<FindMatch[]> {
  const warn = options.warn ?? (() => {})
  if (options.session !== undefined) store.existing(options.session) // SESSION_NOT_FOUND, listing what there is
  const names = [...(options.session !== undefined ? [options.session] : store.names())].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
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
    const reader = await open(name)
    if (!reader) continue
    readable.push(name)
    const { index } = await loadEntityIndex(reader, config)
    const out = withSession(name, findInEntities(index, query))
    if (!parseEntityKey(query)) out.push(...(await errorMatches(name, reader, query)))
    if (out.length === 0) continue
    found = true
    yield dedupe(out)
  }
  if (found || parseEntityKey(query)) return
  // Text: only when no Id or code matched anywhere.
  for (const name of readable) {
    const reader = await open(name)
    if (!reader) continue
    const out: FindMatch[] = []
    for (const row of reader.rows) out.push(...withSession(name, findText(await reader.exchange(row.summary.seq), query, config)))
    if (out.length > 0) yield dedupe(out)
  }
}

function dedupe(matches: FindMatch[]): FindMatch[] {
  const seen = new Set<string>()
  const out: FindMatch[] = []
  for (const m of matches.sort((a, b) => (a.session === b.session ? a.seq - b.seq : a.session < b.session ? -1 : 1))) {
    const key = `${m.session}\n${m.seq}\n${m.where}\n${m.entity ?? ''}`
    if (seen.has(key)) continue
    seen.add(key)
    out.push(m)
  }
  return out
}
