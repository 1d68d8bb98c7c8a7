/**
 * The entities of a session: every object `Type#Id` its answers carry (in `Rels`, and in `Result` when the call's
 * type is known), where each one appeared, which calls referred to it (by which `…Id` field, from where), and its
 * versions: consecutive identical appearances collapse into one version; a changed one records which fields changed.
 * Built incrementally, an exchange at a time. Versions keep a hash per field and where the version was seen, never
 * the values: those are read back from the session (`valuesAt`), so an index on disk never copies the bodies.
 * Pure TypeScript, shared by the CLI (`reltape find`), the viewer's server and its UI.
 */
import { asEnvelope, isPlainObject, type Envelope, type RelObject } from './envelope.js'
import { exceedsJsonDepth } from './json-depth.js'
import { pluralize } from './pluralize.js'
import { isId, relKey, RelsIndex, type RelsConfig } from './rels.js'
import type { Exchange } from './session.js'
import { errorCodeOf } from './summary.js'

/**
 * The entity part of `reltape.config.json`: API method (the path after `/api/vN/`, e.g. `chats/history`) → the type
 * of the objects its `Result` holds, e.g. `{ "chats/history": "Messages" }`. An empty string: not entities.
 */
export type EntityConfig = RelsConfig & { entities?: Record<string, string> }

/** One version of an entity: a run of appearances with the same field values. */
export type EntityVersion = {
  firstSeq: number
  lastSeq: number
  /** Appearances that carried exactly these values. */
  appearances: number
  /** Where this version was first seen: read its values back with `valuesAt`. */
  at: { seq: number; where: string }
  /** A hash of each field's value (canonical JSON), to tell versions apart. */
  fields: Record<string, string>
  /**
   * A hash of the object's JSON as it last arrived: the same text again is the same version without hashing each
   * field (another key order falls back to the field hashes). Absent in indexes written before it existed.
   */
  text?: string
  /** Fields that differ from the previous version (added and removed ones too); empty for the first. */
  changed: string[]
}

/** A call whose answer carried the entity's object. */
export type EntityCarry = {
  seq: number
  /** The object's JSON path in the answer: `Rels.Clients[0]`, `Result[2]`, `Result`. */
  where: string
  /** Index in `versions`. */
  version: number
}

/** A call whose answer referred to the entity through an `…Id` field. */
export type EntityReference = {
  seq: number
  /** The referring field, e.g. `ClientId`, `OwnerClientId`, `ClientIds`. */
  field: string
  /** The JSON path of the value: `Result[2].ClientId`, `Rels.Users[0].ClientIds[1]`. */
  where: string
  /** The entity the reference sits in, when it sits in one: `Messages#252`, `Users#1`. */
  from?: string
  /** False when the call's Rels did not carry the referenced object (a dangling reference). */
  resolved: boolean
}

export type Entity = {
  /** `Clients#11` */
  key: string
  type: string
  id: string | number
  /** The Rels panel's label, from the latest version: `Client #11 · Ivan Petrov`. */
  label: string
  firstSeq: number
  lastSeq: number
  /** Empty for an entity only ever referred to, never carried. */
  versions: EntityVersion[]
  carried: EntityCarry[]
  referenced: EntityReference[]
}

/** One row of an entity list: what the viewer's list shows (the entity with counts for its lists). */
export type EntitySummary = Pick<Entity, 'key' | 'type' | 'id' | 'label' | 'firstSeq' | 'lastSeq'> & {
  versions: number
  /** Distinct calls that carried or referred to it. */
  calls: number
  carried: number
  referenced: number
}

/** A call whose answer was an envelope with an error: `Error.Code` when the code is the error's name, else `Error`. */
export type ErrorCall = { seq: number; where: 'Error.Code' | 'Error' }

/** What an index holds, as JSON (what `EntityIndex.fromJSON` reads back). */
export type EntityIndexData = {
  lastSeq: number
  exchanges: number
  entities: Entity[]
  /** The calls that answered an envelope error, by the error's name as lists show it (`errorCodeOf`). */
  errors?: Record<string, ErrorCall[]>
}

/** Methods whose last word says they answer with objects of their first word's type: `clients/get` → `Clients`. */
const ENTITY_VERBS = new Set([
  'get', 'list', 'find', 'search', 'create', 'add', 'new', 'update', 'edit', 'save', 'set', 'delete', 'remove',
  'upload', 'open', 'close', 'assign', 'archive', 'restore',
])

/** `/public/api/v1/clients/get?x` → `clients/get`: the path after `/api/vN/`, else the whole path without its slashes. */
export function apiMethod(url: string): string {
  const path = (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/i.exec(url)?.[1] ?? url.replace(/[?#].*$/, '')) || '/'
  const m = /\/api\/v\d+\/(.*)$/i.exec(path)
  return (m ? m[1]! : path).replace(/^\/+|\/+$/g, '')
}

/**
 * The type of the objects a method's Result holds: the config's `entities` table, else the naming rule (a method
 * `<plural>/<verb>` with a known verb, `clients/get` → `Clients`); null when unknown (then they are not entities).
 */
export function resultType(method: string, config?: EntityConfig): string | null {
  // Own keys only: a method named like an inherited property (`constructor`) is not in the table.
  const table = config?.entities
  const configured = table && Object.hasOwn(table, method) ? table[method] : undefined
  if (configured !== undefined) return configured === '' ? null : configured
  const parts = method.split('/')
  if (parts.length !== 2 || !ENTITY_VERBS.has(parts[1]!.toLowerCase()) || !/^[a-z][a-z0-9]*$/i.test(parts[0]!)) return null
  const noun = parts[0]!
  const plural = /s$/i.test(noun) ? noun : pluralize(noun)
  return plural[0]!.toUpperCase() + plural.slice(1)
}

/** A JSON path step: `.Name`, `["odd key"]`, `[2]`. */
function step(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
}

/** A JSON path from its keys, rooted at the answer's top: `['Rels', 'Clients', 0]` → `Rels.Clients[0]`. */
export function jsonPath(keys: readonly (string | number)[]): string {
  let out = ''
  for (const k of keys) out += step(k)
  return out.startsWith('.') ? out.slice(1) : out
}

/** The keys of a path `jsonPath` wrote; null for one it could not have written. */
export function parsePath(path: string): (string | number)[] | null {
  const keys: (string | number)[] = []
  const re = /(?:^|\.)([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/gy
  let m: RegExpExecArray | null
  let at = 0
  while (at < path.length && (m = re.exec(path)) !== null) {
    if (m[1] !== undefined) keys.push(m[1])
    else if (m[2] !== undefined) keys.push(Number(m[2]))
    else keys.push(JSON.parse(m[3]!) as string)
    at = re.lastIndex
  }
  return at === path.length ? keys : null
}

/** The value at a `jsonPath` path inside a parsed body; undefined when there is none. */
export function valuesAt(body: unknown, where: string): unknown {
  const keys = parsePath(where)
  if (keys === null) return undefined
  let v: unknown = body
  for (const k of keys) {
    if (typeof k === 'number' ? !Array.isArray(v) : !isPlainObject(v)) return undefined
    v = (v as Record<string | number, unknown>)[k]
  }
  return v
}

/** Canonical JSON (object keys sorted), for comparing values; a value too deep to write is never equal to another. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined'
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  const o = value as Record<string, unknown>
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`
}

/** A 64-bit FNV-1a of a string as 16 hex digits (two 32-bit halves with different offsets). */
export function hashText(text: string): string {
  let a = 0x811c9dc5
  let b = 0x050c5d1f
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    a = Math.imul(a ^ c, 0x01000193)
    b = Math.imul(b ^ c, 0x01000193) ^ (a >>> 13)
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

let deepCounter = 0
function fieldHashes(object: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const field of Object.keys(object)) {
    const v = object[field]
    // A value past the depth limit cannot be written out: it counts as changed each time it is seen.
    out[field] = typeof v === 'object' && v !== null && exceedsJsonDepth(v, 200) ? `deep-${++deepCounter}` : hashText(canonical(v))
  }
  return out
}

function changedFields(before: Record<string, string>, after: Record<string, string>): string[] {
  const out: string[] = []
  for (const f of Object.keys(after)) if (before[f] !== after[f]) out.push(f)
  for (const f of Object.keys(before)) if (!(f in after)) out.push(f)
  return out
}

/** The distinct calls an entity appears in. */
export function callsOf(entity: Entity): number[] {
  const seqs = new Set<number>()
  for (const c of entity.carried) seqs.add(c.seq)
  for (const r of entity.referenced) seqs.add(r.seq)
  return [...seqs].sort((a, b) => a - b)
}

export function summarizeEntity(entity: Entity): EntitySummary {
  return {
    key: entity.key,
    type: entity.type,
    id: entity.id,
    label: entity.label,
    firstSeq: entity.firstSeq,
    lastSeq: entity.lastSeq,
    versions: entity.versions.length,
    calls: callsOf(entity).length,
    carried: entity.carried.length,
    referenced: entity.referenced.length,
  }
}

/** `Clients#11` → `{ type: 'Clients', id: '11' }`; null for anything else. */
export function parseEntityKey(text: string): { type: string; id: string } | null {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)#(.+)$/.exec(text)
  return m ? { type: m[1]!, id: m[2]! } : null
}

/** What an answer's objects are: the Result's type for this call, and where each entity sits (for text matches). */
export type AnswerShape = { envelope: Envelope; resultType: string | null }

/** The envelope of an exchange's answer and its Result's type; null when the answer is not an envelope. */
export function answerShape(exchange: Exchange, config?: EntityConfig): AnswerShape | null {
  const body = exchange.response?.body
  if (body?.kind !== 'json') return null
  const envelope = asEnvelope(body.json)
  if (!envelope) return null
  return { envelope, resultType: resultType(apiMethod(exchange.request.url), config) }
}

/** The entity a JSON path of an answer sits in (`Rels.Users[0].Email` → `Users#1`), if any. */
export function entityAt(shape: AnswerShape, keys: readonly (string | number)[]): string | undefined {
  const { envelope, resultType: type } = shape
  if (keys[0] === 'Rels' && typeof keys[1] === 'string' && typeof keys[2] === 'number') {
    const o = envelope.Rels[keys[1]]?.[keys[2]]
    return o ? relKey(keys[1], o.Id) : undefined
  }
  if (keys[0] !== 'Result' || type === null) return undefined
  const result = envelope.Result
  if (Array.isArray(result)) {
    const item: unknown = typeof keys[1] === 'number' ? result[keys[1]] : undefined
    return isPlainObject(item) && isId(item.Id) ? relKey(type, item.Id) : undefined
  }
  return isPlainObject(result) && isId(result.Id) ? relKey(type, result.Id) : undefined
}

const LABELS = RelsIndex.build({ OK: true, Error: null, Result: null, Rels: {} })

/** The hash of an object's JSON text as it arrived; null when it cannot be written (too deep). */
function textHash(object: RelObject): string | null {
  try {
    return hashText(JSON.stringify(object))
  } catch {
    return null
  }
}

/** The entities of a session, added an exchange at a time in seq order. */
export class EntityIndex {
  readonly #config: EntityConfig | undefined
  readonly #entities = new Map<string, Entity>()
  readonly #errors = new Map<string, ErrorCall[]>()
  #lastSeq = 0
  #exchanges = 0

  constructor(config?: EntityConfig, data?: EntityIndexData) {
    this.#config = config
    if (data) {
      this.#lastSeq = data.lastSeq
      this.#exchanges = data.exchanges
      for (const e of data.entities) this.#entities.set(e.key, e)
      for (const [code, calls] of Object.entries(data.errors ?? {})) this.#errors.set(code, calls)
    }
  }

  static fromJSON(data: EntityIndexData, config?: EntityConfig): EntityIndex {
    return new EntityIndex(config, data)
  }

  /** The last seq added; 0 before any. */
  get lastSeq(): number {
    return this.#lastSeq
  }

  /** Exchanges added. */
  get exchanges(): number {
    return this.#exchanges
  }

  get size(): number {
    return this.#entities.size
  }

  get(key: string): Entity | undefined {
    return this.#entities.get(key)
  }

  /** Every entity, in order of first appearance. */
  entities(): Entity[] {
    return [...this.#entities.values()]
  }

  /** The calls that answered an envelope error named `code` (its `Error.Code`, else its text as lists show it). */
  errorCalls(code: string): readonly ErrorCall[] {
    return this.#errors.get(code) ?? []
  }

  /** Every error name seen, with its calls. */
  errors(): Record<string, ErrorCall[]> {
    return Object.fromEntries(this.#errors)
  }

  toJSON(): EntityIndexData {
    return { lastSeq: this.#lastSeq, exchanges: this.#exchanges, entities: this.entities(), errors: this.errors() }
  }

  /** Adds an exchange; seqs must grow (`RangeError` otherwise). An answer that is not an envelope adds nothing. */
  add(exchange: Exchange): void {
    if (exchange.seq <= this.#lastSeq) throw new RangeError(`exchange ${exchange.seq} added after ${this.#lastSeq}: add exchanges in seq order`)
    this.#lastSeq = exchange.seq
    this.#exchanges++
    const shape = answerShape(exchange, this.#config)
    if (!shape) return
    this.#addAnswer(exchange.seq, shape)
    const { envelope } = shape
    if (!envelope.OK) this.#addError(exchange.seq, envelope.Error)
  }

  #addError(seq: number, error: unknown): void {
    const code = errorCodeOf(error) ?? 'Error'
    const named = typeof error === 'object' && error !== null ? (error as Record<string, unknown>).Code : undefined
    const where = named !== undefined && String(named) === code ? 'Error.Code' : 'Error'
    let calls = this.#errors.get(code)
    if (!calls) this.#errors.set(code, (calls = []))
    calls.push({ seq, where })
  }

  #addAnswer(seq: number, shape: AnswerShape): void {
    const { envelope, resultType: type } = shape
    if (type !== null) {
      const result = envelope.Result
      if (Array.isArray(result)) {
        result.forEach((item, i) => {
          if (isPlainObject(item) && isId(item.Id)) this.#carry(seq, type, item as RelObject, `Result[${i}]`)
        })
      } else if (isPlainObject(result) && isId(result.Id)) this.#carry(seq, type, result as RelObject, 'Result')
    }
    const positions = new Map<string, number>()
    for (const [relType, objects] of Object.entries(envelope.Rels)) {
      const prefix = `Rels${step(relType)}[`
      objects.forEach((object, i) => {
        const key = relKey(relType, object.Id)
        if (!positions.has(key)) positions.set(key, i)
        this.#carry(seq, relType, object, `${prefix}${i}]`)
      })
    }
    const rels = RelsIndex.build(envelope, this.#config)
    for (const ref of rels.references) {
      const target = ref.target ?? (ref.expectedType ? { type: ref.expectedType, id: ref.id } : null)
      if (target === null) continue
      let keys: (string | number)[]
      let from: string | undefined
      if (ref.site.where === 'rels') {
        const siteType = ref.site.type as string
        const key = relKey(siteType, ref.site.id as string | number)
        keys = ['Rels', siteType, positions.get(key) ?? 0, ...ref.site.path]
        from = key
      } else {
        keys = ['Result', ...ref.site.path]
        from = entityAt(shape, keys)
      }
      const entity = this.#entity(target.type, target.id, seq)
      const reference: EntityReference = { seq, field: ref.field, where: jsonPath(keys), resolved: ref.target !== null }
      if (from !== undefined) reference.from = from
      entity.referenced.push(reference)
    }
  }

  #entity(type: string, id: string | number, seq: number): Entity {
    const key = relKey(type, id)
    let entity = this.#entities.get(key)
    if (!entity) {
      entity = { key, type, id, label: LABELS.label(type, { Id: id }), firstSeq: seq, lastSeq: seq, versions: [], carried: [], referenced: [] }
      this.#entities.set(key, entity)
    }
    entity.lastSeq = seq
    return entity
  }

  #carry(seq: number, type: string, object: RelObject, where: string): void {
    const entity = this.#entity(type, object.Id, seq)
    const last = entity.versions[entity.versions.length - 1]
    const text = textHash(object)
    // The same text as the last version's: the same values, without hashing each field.
    let same = last !== undefined && text !== null && last.text === text
    let fields: Record<string, string> | undefined
    let changed: string[] = []
    if (!same) {
      fields = fieldHashes(object)
      changed = last ? changedFields(last.fields, fields) : []
      same = last !== undefined && changed.length === 0
    }
    if (same) {
      last!.lastSeq = seq
      last!.appearances++
      if (text !== null) last!.text = text
    } else {
      const version: EntityVersion = { firstSeq: seq, lastSeq: seq, appearances: 1, at: { seq, where }, fields: fields!, changed }
      if (text !== null) version.text = text
      entity.versions.push(version)
      entity.label = LABELS.label(type, object)
    }
    entity.carried.push({ seq, where, version: entity.versions.length - 1 })
  }
}

/** One match of `reltape find`: a call and the JSON path in it; `entity` when the match sits in one. */
export type EntityMatch = { seq: number; where: string; entity?: string }

/**
 * The matches of a query in an index: for `Type#Id`, the calls that carried that entity and those that referred
 * to it (exact: `Clients#11` is neither `Users#11` nor `Clients#110`); for anything else, every entity whose Id is
 * the query, carried or referred to. In seq order.
 */
export function findInEntities(index: EntityIndex, query: string): EntityMatch[] {
  const parsed = parseEntityKey(query)
  const found: Entity[] = []
  if (parsed) {
    const e = index.get(relKey(parsed.type, parsed.id))
    if (e) found.push(e)
  } else {
    for (const e of index.entities()) if (String(e.id) === query) found.push(e)
  }
  const out: EntityMatch[] = []
  for (const e of found) {
    for (const c of e.carried) out.push({ seq: c.seq, where: c.where, entity: e.key })
    for (const r of e.referenced) out.push(r.from !== undefined ? { seq: r.seq, where: r.where, entity: r.from } : { seq: r.seq, where: r.where })
  }
  return out.sort((a, b) => a.seq - b.seq)
}

/**
 * The string values inside an exchange's bodies that contain `query` (ignoring case): response JSON by its path
 * (`Rels.Clients[0].Name`), request JSON under `request.body`, text bodies as `response.body` / `request.body`.
 */
export function findText(exchange: Exchange, query: string, config?: EntityConfig): EntityMatch[] {
  const needle = query.toLowerCase()
  const out: EntityMatch[] = []
  const shape = answerShape(exchange, config)
  const walk = (root: unknown, base: (string | number)[], inAnswer: boolean): void => {
    // Without recursion: a deep body must not overflow the stack.
    const stack: { v: unknown; keys: (string | number)[] }[] = [{ v: root, keys: base }]
    const found: { keys: (string | number)[] }[] = []
    while (stack.length) {
      const { v, keys } = stack.pop()!
      if (typeof v === 'string') {
        if (v.toLowerCase().includes(needle)) found.push({ keys })
      } else if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], keys: [...keys, i] })
      } else if (isPlainObject(v)) {
        const ks = Object.keys(v)
        for (let i = ks.length - 1; i >= 0; i--) stack.push({ v: v[ks[i]!], keys: [...keys, ks[i]!] })
      }
    }
    for (const { keys } of found) {
      const entity = inAnswer && shape ? entityAt(shape, keys) : undefined
      out.push(entity !== undefined ? { seq: exchange.seq, where: jsonPath(keys), entity } : { seq: exchange.seq, where: jsonPath(keys) })
    }
  }
  const request = exchange.request.body
  if (request?.kind === 'json') walk(request.json, ['request', 'body'], false)
  else if (request?.kind === 'text' && request.text.toLowerCase().includes(needle)) out.push({ seq: exchange.seq, where: 'request.body' })
  const response = exchange.response?.body
  if (response?.kind === 'json') walk(response.json, [], true)
  else if (response?.kind === 'text' && response.text.toLowerCase().includes(needle)) out.push({ seq: exchange.seq, where: 'response.body' })
  return out
}

/** One version as the timeline shows it: its values, and each changed field as old → new. */
export type TimelineVersion = EntityVersion & {
  values: Record<string, unknown> | null
  changes: { field: string; old: unknown; new: unknown }[]
}

/** The versions of an entity with their values, given each version's object (read back from where it was seen). */
export function timelineVersions(entity: Entity, objects: readonly (Record<string, unknown> | null)[]): TimelineVersion[] {
  return entity.versions.map((v, i) => {
    const values = objects[i] ?? null
    const previous = i > 0 ? (objects[i - 1] ?? null) : null
    const changes = v.changed.map((field) => ({ field, old: previous ? previous[field] : undefined, new: values ? values[field] : undefined }))
    return { ...v, values, changes }
  })
}

/** The viewer's `GET /api/sessions/:name/entities`: the session's entities (filtered), and every type there. */
export type EntityList = { total: number; types: string[]; items: EntitySummary[] }

/** A call as an entity page links to it: which method, and which identity made it (null: none, or not known). */
export type CallRef = { seq: number; method: string | null; path: string | null; identity: string | null }

/** An identity that made calls carrying or referring to an entity, with how many. */
export type EntityIdentity = { identity: string | null; calls: number }

/** The viewer's `GET /api/sessions/:name/entities/:type/:id`: one entity's timeline. */
export type EntityTimeline = EntitySummary & {
  timeline: TimelineVersion[]
  /** The calls that carried it. */
  carriedIn: (EntityCarry & CallRef)[]
  /** The calls that referred to it. */
  referencedIn: (EntityReference & CallRef)[]
  /** The identities whose calls carried it or referred to it, most calls first (`null`: calls without a token). */
  identities: EntityIdentity[]
}
