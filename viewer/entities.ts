/**
 * The viewer's entity routes: a session's entity list and one entity's timeline (its versions with their values
 * and changed fields as old → new, the calls that carried it, those that referred to it). The index is the store's
 * (store/entity-index.ts), kept per open session and brought up to date when the session grows.
 */
import type { FastifyInstance } from 'fastify'
import {
  answerShape,
  summarizeEntity,
  timelineVersions,
  valuesAt,
  type Entity,
  type CallRef,
  type EntityConfig,
  type EntityList,
  type EntityTimeline,
} from '../model/entities.js'
import { relKey } from '../model/rels.js'
import { checkSessionName } from '../model/session.js'
import type { ExchangeSummary } from '../model/summary.js'
import { loadEntityIndex, type SessionEntities } from '../store/entity-index.js'
import { SessionNameError } from '../store/paths.js'
import type { SessionReader } from '../store/session-reader.js'
import { ViewerError } from './errors.js'
import type { SessionCache } from './session-cache.js'

export class EntityCache {
  readonly #held = new Map<string, { reader: SessionReader; entities: SessionEntities }>()
  readonly #pending = new Map<string, Promise<SessionEntities>>()

  constructor(
    readonly sessions: SessionCache,
    readonly config: EntityConfig,
  ) {}

  /** The entity index of a session, current. */
  async get(name: string): Promise<{ reader: SessionReader; entities: SessionEntities }> {
    const { reader } = await this.sessions.get(name)
    const held = this.#held.get(name)
    let pending = this.#pending.get(name)
    if (!pending) {
      pending = loadEntityIndex(reader, this.config, held?.reader === reader ? held.entities : undefined)
      this.#pending.set(name, pending)
      void pending.finally(() => this.#pending.delete(name)).catch(() => undefined)
    }
    const entities = await pending
    this.#held.set(name, { reader, entities })
    // Bounded like the sessions: keep the latest few.
    while (this.#held.size > 8) this.#held.delete(this.#held.keys().next().value as string)
    return { reader, entities }
  }
}

function callRef(reader: SessionReader, seq: number): CallRef {
  const s: ExchangeSummary | undefined = reader.row(seq)?.summary
  return { seq, method: s ? s.path.replace(/^.*\/api\/v\d+\//, '').split('?')[0]! : null, path: s?.path ?? null }
}

function checkedName(name: string): string {
  const problem = checkSessionName(name)
  if (problem) throw new SessionNameError(problem)
  return name
}

async function timelineOf(reader: SessionReader, entity: Entity, config: EntityConfig): Promise<EntityTimeline> {
  const objects: (Record<string, unknown> | null)[] = []
  for (const v of entity.versions) {
    const exchange = await reader.exchange(v.at.seq)
    const shape = answerShape(exchange, config)
    const body = exchange.response?.body
    const value = shape && body?.kind === 'json' ? valuesAt(body.json, v.at.where) : undefined
    objects.push(typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null)
  }
  return {
    ...summarizeEntity(entity),
    timeline: timelineVersions(entity, objects),
    carriedIn: entity.carried.map((c) => ({ ...c, ...callRef(reader, c.seq), seq: c.seq })),
    referencedIn: entity.referenced.map((r) => ({ ...r, ...callRef(reader, r.seq), seq: r.seq })),
  }
}

export function registerEntityRoutes(app: FastifyInstance, cache: EntityCache): void {
  app.get<{ Params: { name: string }; Querystring: { type?: string; q?: string } }>(
    '/api/sessions/:name/entities',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: { type: 'object', properties: { type: { type: 'string' }, q: { type: 'string' } } },
      },
    },
    async (request): Promise<EntityList> => {
      const { entities } = await cache.get(checkedName(request.params.name))
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
      const { reader, entities } = await cache.get(checkedName(name))
      const entity = entities.index.get(relKey(type, id))
      if (!entity) throw new ViewerError('ENTITY_NOT_FOUND', { session: name, entity: relKey(type, id) })
      return timelineOf(reader, entity, cache.config)
    },
  )
}
