/**
 * The viewer's entity routes: a session's entity list and one entity's timeline (its versions with their values
 * and changed fields as old → new, the calls that carried it, those that referred to it). The index is the store's
 * (store/entity-index.ts), kept per open session and brought up to date when the session grows. And the search over
 * every session, `GET /api/find?q=QUERY`, answering what `reltape find --json` answers (store/find.ts: it reads each
 * session's on-disk entity index in turn, so the server never holds every session for it).
 */
import { Readable } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import {
  answerShape,
  summarizeEntity,
  timelineVersions,
  valuesAt,
  type Entity,
  type CallRef,
  type EntityIdentity,
  type EntityConfig,
  type EntityList,
  type EntityTimeline,
} from '../model/entities.js'
import { relKey } from '../model/rels.js'
import type { ExchangeSummary } from '../model/summary.js'
import { loadEntityIndex, type SessionEntities } from '../store/entity-index.js'
import { findEachSession, findFirst, matchesJsonText, type FindMatch } from '../store/find.js'
import { checkedSessionName } from '../store/paths.js'
import type { SessionReader } from '../store/session-reader.js'
import { ViewerError } from './errors.js'
import type { SessionCache } from './session-cache.js'

export class EntityCache {
  /** Kept with the reader they were made from: the session cache's bound, which lets readers go, is theirs too. */
  readonly #held = new WeakMap<SessionReader, SessionEntities>()
  readonly #pending = new Map<string, Promise<SessionEntities>>()

  constructor(
    readonly sessions: SessionCache,
    readonly config: EntityConfig,
  ) {}

  /** The entity index of a session, current. */
  async get(name: string): Promise<{ reader: SessionReader; entities: SessionEntities }> {
    const { reader } = await this.sessions.get(name)
    let pending = this.#pending.get(name)
    if (!pending) {
      pending = loadEntityIndex(reader, this.config, this.#held.get(reader))
      this.#pending.set(name, pending)
      void pending.finally(() => this.#pending.delete(name)).catch(() => undefined)
    }
    const entities = await pending
    this.#held.set(reader, entities)
    return { reader, entities }
  }
}

function callRef(reader: SessionReader, seq: number): CallRef {
  const s: ExchangeSummary | undefined = reader.row(seq)?.summary
  return { seq, method: s ? s.path.replace(/^.*\/api\/v\d+\//, '').split('?')[0]! : null, path: s?.path ?? null, identity: s?.identity ?? null }
}

/** The identities of the calls that carried or referred to an entity, each counted once per call, most calls first. */
function identitiesOf(calls: readonly CallRef[]): EntityIdentity[] {
  const bySeq = new Map<number, string | null>()
  for (const c of calls) bySeq.set(c.seq, c.identity)
  const counts = new Map<string | null, number>()
  for (const identity of bySeq.values()) counts.set(identity, (counts.get(identity) ?? 0) + 1)
  return [...counts].map(([identity, calls]) => ({ identity, calls })).sort((a, b) => b.calls - a.calls || String(a.identity).localeCompare(String(b.identity)))
}

async function timelineOf(reader: SessionReader, entity: Entity, config: EntityConfig): Promise<EntityTimeline> {
  const objects: (Record<string, unknown> | null)[] = []
  // The exchanges each version was first seen in, read together (nearby ones with one read).
  const seqs = [...new Set(entity.versions.map((v) => v.at.seq))]
  const bySeq = new Map((await reader.exchangesOf(seqs)).map((e) => [e.seq, e]))
  for (const v of entity.versions) {
    const exchange = bySeq.get(v.at.seq)!
    const shape = answerShape(exchange, config)
    const body = exchange.response?.body
    const value = shape && body?.kind === 'json' ? valuesAt(body.json, v.at.where) : undefined
    objects.push(typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null)
  }
  const carriedIn = entity.carried.map((c) => ({ ...c, ...callRef(reader, c.seq), seq: c.seq }))
  const referencedIn = entity.referenced.map((r) => ({ ...r, ...callRef(reader, r.seq), seq: r.seq }))
  return {
    ...summarizeEntity(entity),
    timeline: timelineVersions(entity, objects),
    carriedIn,
    referencedIn,
    identities: identitiesOf([...carriedIn, ...referencedIn]),
  }
}

export function registerEntityRoutes(app: FastifyInstance, cache: EntityCache): void {
  app.get<{ Querystring: { q: string; limit?: number } }>(
    '/api/find',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { q: { type: 'string', minLength: 1, maxLength: 300 }, limit: { type: 'integer', minimum: 1, maximum: 100_000 } },
          required: ['q'],
        },
      },
    },
    async (request, reply) => {
      const query = request.query.q.trim()
      if (query === '') throw Object.assign(new Error('querystring/q must not be blank'), { statusCode: 400, code: 'FST_ERR_VALIDATION' })
      // Sessions that cannot be read are skipped, as `reltape find` does (it warns; the list shows why they fail).
      // A search the browser gave up on (another query typed, the page left) stops: its answer would go nowhere.
      const options = { signal: request.signal }
      const { limit } = request.query
      if (limit !== undefined) {
        // The first `limit` matches; how many there are in all in a header (the UI lists a few, counts the rest).
        const { first, total } = await findFirst(cache.sessions.store, query, cache.config, limit, options)
        return reply.header('x-reltape-matches', String(total)).send(first)
      }
      const sessions = findEachSession(cache.sessions.store, query, cache.config, options)
      // Every match, as `reltape find --json`: streamed a session at a time, so the answer is never held whole.
      const first = await sessions.next() // a failure before any byte is sent is still an error answer
      async function* each(): AsyncGenerator<FindMatch[]> {
        for (let r = first; !r.done; r = await sessions.next()) yield r.value
      }
      return reply.type('application/json; charset=utf-8').send(Readable.from(matchesJsonText(each())))
    },
  )

  app.get<{ Params: { name: string }; Querystring: { type?: string; q?: string } }>(
    '/api/sessions/:name/entities',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: { type: 'object', properties: { type: { type: 'string' }, q: { type: 'string' } } },
      },
    },
    async (request): Promise<EntityList> => {
      const { entities } = await cache.get(checkedSessionName(request.params.name))
      const all = entities.index.entities()
      const types = [...new Set(all.map((e) => e.type))].sort()
      const { type, q } = request.query
      const needle = (q ?? '').trim().toLowerCase()
      const items = all
        .filter((e) => !type || e.type === type)
        .filter((e) => !needle || e.key.toLowerCase().includes(needle) || e.label.toLowerCase().includes(needle))
        .map(summarizeEntity)
      return { total: all.length, types, items }
    },
  )

  app.get<{ Params: { name: string; type: string; id: string } }>(
    '/api/sessions/:name/entities/:type/:id',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' }, id: { type: 'string' } }, required: ['name', 'type', 'id'] },
      },
    },
    async (request): Promise<EntityTimeline> => {
      const { name, type, id } = request.params
      const { reader, entities } = await cache.get(checkedSessionName(name))
      const entity = entities.index.get(relKey(type, id))
      if (!entity) throw new ViewerError('ENTITY_NOT_FOUND', { session: name, entity: relKey(type, id) })
      return timelineOf(reader, entity, cache.config)
    },
  )
}
