/**
 * The Rels graph of one envelope: an index of `Rels` by type and Id, the references that
 * `…Id` / `…Ids` fields make (in `Result` and between Rels objects), who refers to each object,
 * dangling references and objects nothing refers to.
 * Pure TypeScript, shared by the viewer's server and its UI.
 */
import { isPlainObject, type Envelope, type RelObject } from './envelope.js'
import { pluralize, singularize, splitWords } from './pluralize.js'

export { pluralize, singularize } from './pluralize.js'

/**
 * The viewer's part of `reltape.config.json`: field name → Rels type, e.g. `{ "AvatarId": "Files" }`.
 * An empty string marks a field as not a reference (an id in an outside system).
 */
export type RelsConfig = { rels?: Record<string, string> }

/** `${type}#${String(id)}`: one key for `11` and `"11"`. */
export type RelKey = string

/** Where a reference sits: in Result at `path`, or inside the Rels object `type`/`id` at `path`. */
export type Site = { where: 'result' | 'rels'; type?: string; id?: string | number; path: (string | number)[] }

export type Reference = {
  site: Site
  field: string
  id: string | number
  /** The Rels object it resolves to; null when Rels does not carry it (dangling). */
  target: { type: string; id: string | number } | null
  /** The type the field names (by override or naming rule), also for a dangling reference: `ChatId` → `Chats`. */
  expectedType: string | null
}

export type Resolved = { type: string; id: string | number; object: RelObject }

/** Last words of fields that hold ids in outside systems (API.md: TelegramId, FacebookId, VKId), or client-made ids (LocalId). */
const OUTSIDE_ID_WORDS = new Set([
  'telegram', 'facebook', 'vk', 'local', 'external', 'whatsapp', 'viber', 'instagram', 'google', 'apple',
  'twitter', 'skype', 'ok', 'request', 'trace', 'correlation', 'session',
])

export function relKey(type: string, id: string | number): RelKey {
  return `${type}#${String(id)}`
}

function idSuffix(name: string): 'Id' | 'Ids' | null {
  if (name.endsWith('Ids') && name.length > 3) return 'Ids'
  if (name.endsWith('Id') && name.length > 2) return 'Id'
  return null
}

function stemOf(name: string): string {
  const suffix = idSuffix(name)
  return suffix === null ? name : name.slice(0, -suffix.length)
}

/**
 * True for a field that by its name refers to another object: it ends with `Id` or `Ids`,
 * is not `Id` itself, and is not an id in an outside system (`TelegramId`, `FacebookId`, `VKId`, `LocalId`, …).
 */
export function isReferenceField(name: string): boolean {
  if (idSuffix(name) === null) return false
  const words = splitWords(stemOf(name))
  const last = words[words.length - 1]
  if (last === undefined) return false
  // `LocalId` is a client clock value, `TelegramId` an id elsewhere: neither points into Rels.
  const lastLower = last.toLowerCase()
  return !OUTSIDE_ID_WORDS.has(lastLower)
}

/** A usable Id value; an empty string, like null, means "no reference". */
export function isId(value: unknown): value is string | number {
  return (typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isFinite(value))
}

/** Names the naming rule tries for a stem, best first: the last word (`OwnerClient` → `Client`), then longer tails, then the stem. */
function candidateStems(stem: string): string[] {
  const words = splitWords(stem)
  const out: string[] = []
  for (let i = words.length - 1; i >= 0; i--) out.push(words.slice(i).join(''))
  if (!out.includes(stem)) out.push(stem)
  return out
}

export class RelsIndex {
  /** Rels types present, in the body's order. */
  readonly types: string[]
  /** Every reference found in Result and in Rels objects, in document order. */
  readonly references: Reference[] = []

  readonly #byKey = new Map<RelKey, RelObject>()
  readonly #typesById = new Map<string, string[]>()
  readonly #typeByLower = new Map<string, string>()
  readonly #overrides: Map<string, string>
  readonly #targetCache = new Map<string, string | null>()
  readonly #referenceCache = new Map<string, boolean>()
  readonly #backRefs = new Map<RelKey, Reference[]>()
  readonly #singulars = new Map<string, string>()

  readonly #rels: Record<string, RelObject[]>

  private constructor(rels: Record<string, RelObject[]>, config: RelsConfig | undefined) {
    this.#rels = rels
    this.types = Object.keys(rels)
    this.#overrides = new Map(Object.entries(config?.rels ?? {}).filter(([, v]) => typeof v === 'string'))
    for (const type of this.types) {
      this.#typeByLower.set(type.toLowerCase(), type)
      for (const object of rels[type] ?? []) {
        const key = relKey(type, object.Id)
        if (this.#byKey.has(key)) continue // a duplicate Id: the first one wins, as a client's lookup would
        this.#byKey.set(key, object)
        const id = String(object.Id)
        const holders = this.#typesById.get(id)
        if (holders === undefined) this.#typesById.set(id, [type])
        else holders.push(type)
      }
    }
  }

  /** Indexes an envelope's Rels and finds every reference in it. */
  static build(envelope: Envelope, config?: RelsConfig): RelsIndex {
    const index = new RelsIndex(envelope.Rels, config)
    index.#collect(envelope.Result, { where: 'result', path: [] })
    for (const type of index.types) {
      for (const object of index.objects(type)) index.#collect(object, { where: 'rels', type, id: object.Id, path: [] })
    }
    return index
  }

  objects(type: string): RelObject[] {
    return this.#rels[type] ?? []
  }

  /** The object of `type` with this Id; `11` and `"11"` match each other. */
  get(type: string, id: string | number): RelObject | undefined {
    return this.#byKey.get(relKey(type, id))
  }

  /** True when `field` refers to another object: named in the override table (not as `""`), or by the naming rule. */
  isReference(field: string): boolean {
    let known = this.#referenceCache.get(field)
    if (known === undefined) {
      const override = this.#overrides.get(field)
      known = override !== undefined ? override !== '' : isReferenceField(field)
      this.#referenceCache.set(field, known)
    }
    return known
  }

  /**
   * The Rels type a field refers to: the override table, then the naming rule (`ClientId`, `OwnerClientId`,
   * `ClientIds` → `Clients`), preferring a type that is present in Rels; null when the field is not a reference.
   */
  targetType(field: string): string | null {
    const cached = this.#targetCache.get(field)
    if (cached !== undefined) return cached
    const type = this.#computeTargetType(field)
    this.#targetCache.set(field, type)
    return type
  }

  #computeTargetType(field: string): string | null {
    if (!this.isReference(field)) return null
    const override = this.#overrides.get(field)
    if (override !== undefined) return override
    const stems = candidateStems(stemOf(field))
    for (const stem of stems) {
      const present = this.#typeByLower.get(pluralize(stem).toLowerCase()) ?? this.#typeByLower.get(stem.toLowerCase())
      if (present !== undefined) return present
    }
    return pluralize(stems[0] ?? field)
  }

  /**
   * Resolves one value of a field (for `XIds`, call it per item).
   * undefined: `field` is not a reference field; null: it is, but the value is null or Rels does not carry it.
   */
  resolve(field: string, value: unknown): Resolved | null | undefined {
    const type = this.targetType(field)
    if (type === null) return undefined
    if (!isId(value)) return null
    const object = this.get(type, value)
    if (object !== undefined) return { type, id: object.Id, object }
    if (this.#overrides.has(field) || this.#typeByLower.has(type.toLowerCase())) return null
    // The naming rule found no such type in Rels (`AvatarId` and no `Avatars`): accept a unique holder of the Id.
    // Only for non-numeric string ids (UUID file names): small numbers collide across types (ProjectId 1 vs User #1).
    if (typeof value !== 'string' || /^\d+$/.test(value)) return null
    const holders = this.#typesById.get(value)
    if (holders === undefined || holders.length !== 1) return null
    const holder = holders[0] as string
    const found = this.get(holder, value)
    return found === undefined ? null : { type: holder, id: found.Id, object: found }
  }

  /** Who refers to this object (from Result and from other Rels objects, itself included for a self-reference). */
  backReferences(type: string, id: string | number): Reference[] {
    return this.#backRefs.get(relKey(type, id)) ?? []
  }

  /** References whose Id Rels does not carry. */
  dangling(): Reference[] {
    return this.references.filter((r) => r.target === null)
  }

  /** Rels objects nothing else refers to (a reference from the object to itself does not count). */
  unreferenced(): { type: string; id: string | number }[] {
    const out: { type: string; id: string | number }[] = []
    for (const type of this.types) {
      for (const object of this.objects(type)) {
        if (this.get(type, object.Id) !== object) continue // a shadowed duplicate
        const refs = this.backReferences(type, object.Id)
        const fromOthers = refs.some((r) => !(r.site.where === 'rels' && r.site.type === type && String(r.site.id) === String(object.Id)))
        if (!fromOthers) out.push({ type, id: object.Id })
      }
    }
    return out
  }

  /** A short label for chips: `Client #11 · Ivan Petrov`. */
  label(type: string, object: RelObject): string {
    let singular = this.#singulars.get(type)
    if (singular === undefined) this.#singulars.set(type, (singular = singularize(type)))
    const head = `${singular} #${String(object.Id)}`
    for (const field of ['DisplayName', 'Name', 'Title', 'Subject', 'Text', 'Email', 'Login']) {
      const value = object[field]
      if (typeof value === 'string' && value.trim() !== '') {
        const text = value.trim().replace(/\s+/g, ' ')
        return `${head} · ${text.length > 60 ? text.slice(0, 59) + '…' : text}`
      }
    }
    return head
  }

  /** Walks a value without recursion (a deep body must not overflow the stack) and records each reference. */
  #collect(root: unknown, base: Site): void {
    // Paths are parent-linked so that a deep body costs O(size), not O(depth²); one is built only for a reference.
    // This runs on every opening of an envelope, mostly before the JIT has warmed up: no per-object allocations.
    type Step = { value: unknown; parent: Step | null; key: string | number | null }
    const pathOf = (step: Step, field: string, item?: number): (string | number)[] => {
      const keys: (string | number)[] = []
      for (let s: Step | null = step; s !== null && s.key !== null; s = s.parent) keys.push(s.key)
      const out = base.path.slice()
      for (let i = keys.length - 1; i >= 0; i--) out.push(keys[i] as string | number)
      out.push(field)
      if (item !== undefined) out.push(item)
      return out
    }
    const stack: Step[] = [{ value: root, parent: null, key: null }]
    // Depth-first, children pushed in reverse so references come out in document order.
    while (stack.length > 0) {
      const step = stack.pop() as Step
      const value = step.value
      if (Array.isArray(value)) {
        for (let i = value.length - 1; i >= 0; i--) {
          if (typeof value[i] === 'object' && value[i] !== null) stack.push({ value: value[i], parent: step, key: i })
        }
        continue
      }
      if (!isPlainObject(value)) continue
      const first = stack.length
      for (const field of Object.keys(value)) {
        const v = value[field]
        if (this.isReference(field)) {
          if (Array.isArray(v)) {
            for (let i = 0; i < v.length; i++) if (isId(v[i])) this.#record(base, pathOf(step, field, i), field, v[i])
          } else if (isId(v)) this.#record(base, pathOf(step, field), field, v)
        } else if (typeof v === 'object' && v !== null) {
          stack.push({ value: v, parent: step, key: field })
        }
      }
      // The children were pushed in document order: reverse them in place, so the first is walked first.
      for (let i = first, j = stack.length - 1; i < j; i++, j--) {
        const t = stack[i] as Step
        stack[i] = stack[j] as Step
        stack[j] = t
      }
    }
  }

  #record(base: Site, path: (string | number)[], field: string, value: unknown): void {
    if (!isId(value)) return // null means "no reference", not a dangling one
    const resolved = this.resolve(field, value)
    const site: Site = base.where === 'rels' ? { where: 'rels', type: base.type, id: base.id, path } : { where: 'result', path }
    const reference: Reference = {
      site,
      field,
      id: value,
      target: resolved ? { type: resolved.type, id: resolved.id } : null,
      expectedType: resolved ? resolved.type : this.targetType(field),
    }
    this.references.push(reference)
    if (resolved) {
      const key = relKey(resolved.type, resolved.id)
      const list = this.#backRefs.get(key)
      if (list === undefined) this.#backRefs.set(key, [reference])
      else list.push(reference)
    }
  }
}
