/**
 * What changed between two exchanges, in the terms of this API rather than of text: the HTTP status, the envelope's
 * `OK` and `Error`, `Result` by JSON path with arrays of objects aligned by their `Id` (one inserted message is one
 * change, not every message after it), and `Rels` entity by entity (`Rels.Clients#11.Name`). Fields the user
 * ignores (`LocalId` unless told otherwise) are left out with the same path syntax and rule replay uses.
 * Pure: the CLI, `verify` and the viewer all use it.
 */
import { asEnvelope } from './envelope.js'
import { exceedsJsonDepth } from './json-depth.js'
import { canonicalJson, ignoreCursor, ignoreField, ignoreItem, type FieldPath, type IgnoreCursor } from './match.js'
import type { Body, Exchange } from './session.js'

export type ChangeKind = 'added' | 'removed' | 'changed'

/** One change. `path` reads like `Rels.Clients#11.Name`, `Result[Id=252].Text`, `OK`, `Error.Code`, `status`. */
export type Change = { path: string; kind: ChangeKind; a?: unknown; b?: unknown }

export type DiffOptions = {
  /** Field paths left out (replay's syntax: `LocalId`, `Items[].LocalId`, `*.CreatedAt`). */
  ignore: readonly FieldPath[]
  /**
   * Field names left out wherever they stand: the client's `LocalId`, echoed into Result items, differs on every
   * run by design. @default ['LocalId']
   */
  ignoreNames?: readonly string[]
}

type Json = unknown

function isObject(v: Json): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function sameJson(a: Json, b: Json): boolean {
  if (a === b) return true
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a)) {
    const bb = b as Json[]
    return a.length === bb.length && a.every((x, i) => sameJson(x, bb[i]))
  }
  const ao = a as Record<string, Json>
  const bo = b as Record<string, Json>
  const keys = Object.keys(ao)
  if (keys.length !== Object.keys(bo).length) return false
  return keys.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && sameJson(ao[k], bo[k]))
}

/** The `Id` of an object that has one (a number or a string), else undefined. */
function idOf(v: Json): string | number | undefined {
  if (!isObject(v)) return undefined
  const id = v.Id
  return typeof id === 'number' || typeof id === 'string' ? id : undefined
}

/** True when every item is an object with a distinct `Id`: such arrays are compared item by item by `Id`. */
function keyedById(list: Json[]): boolean {
  if (list.length === 0) return false
  const seen = new Set<string | number>()
  for (const item of list) {
    const id = idOf(item)
    if (id === undefined || seen.has(id)) return false
    seen.add(id)
  }
  return true
}

const joinKey = (path: string, key: string) => (path ? `${path}.${key}` : key)

/** Field names ignored at any depth, for one diff. */
type Names = ReadonlySet<string>

/** A value with the ignored fields left out, for an `added`/`removed` change. */
function kept(v: Json, at: IgnoreCursor, names: Names): Json {
  if (Array.isArray(v)) {
    const out: Json[] = []
    v.forEach((item, i) => {
      const sub = ignoreItem(at, i)
      if (sub) out.push(kept(item, sub, names))
    })
    return out
  }
  if (isObject(v)) {
    const out: Record<string, Json> = {}
    for (const [k, x] of Object.entries(v)) {
      const sub = names.has(k) ? null : ignoreField(at, k)
      if (sub) out[k] = kept(x, sub, names)
    }
    return out
  }
  return v
}

/** Compares two JSON values, pushing changes; arrays of objects with `Id`s are aligned by `Id`. */
function walk(a: Json, b: Json, path: string, at: IgnoreCursor, names: Names, out: Change[]): void {
  if (a === undefined && b === undefined) return
  if (a === undefined) return void out.push({ path, kind: 'added', b: kept(b, at, names) })
  if (b === undefined) return void out.push({ path, kind: 'removed', a: kept(a, at, names) })
  if (Array.isArray(a) && Array.isArray(b)) {
    if (keyedById(a) && keyedById(b)) {
      const bById = new Map(b.map((item, i) => [idOf(item)!, i]))
      const aIds = new Set<string | number>()
      a.forEach((item, i) => {
        const id = idOf(item)!
        aIds.add(id)
        const j = bById.get(id)
        // The ignore rule applies to every item whatever its Id: the item's own index decides nothing here.
        const sub = ignoreItem(at, i)
        if (!sub) return
        walk(item, j === undefined ? undefined : b[j], `${path}[Id=${id}]`, sub, names, out)
      })
      b.forEach((item, j) => {
        const id = idOf(item)!
        const sub = ignoreItem(at, j)
        if (sub && !aIds.has(id)) walk(undefined, item, `${path}[Id=${id}]`, sub, names, out)
      })
      return
    }
    const n = Math.max(a.length, b.length)
    for (let i = 0; i < n; i++) {
      const sub = ignoreItem(at, i)
      if (sub) walk(a[i], b[i], `${path}[${i}]`, sub, names, out)
    }
    return
  }
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const sub = names.has(k) ? null : ignoreField(at, k)
      if (sub) walk(a[k], b[k], joinKey(path, k), sub, names, out)
    }
    return
  }
  if (!sameJson(kept(a, at, names), kept(b, at, names))) out.push({ path, kind: 'changed', a: kept(a, at, names), b: kept(b, at, names) })
}

/** `Rels`: entities by type and `Id`, field by field. */
function walkRels(a: Record<string, Json[]>, b: Record<string, Json[]>, at: IgnoreCursor, names: Names, out: Change[]): void {
  const rels = ignoreField(at, 'Rels')
  if (!rels) return
  for (const type of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const typed = ignoreField(rels, type)
    if (!typed) continue
    const aById = new Map((a[type] ?? []).map((o, i) => [idOf(o)!, { o, i }]))
    const bById = new Map((b[type] ?? []).map((o, i) => [idOf(o)!, { o, i }]))
    for (const id of new Set([...aById.keys(), ...bById.keys()])) {
      const x = aById.get(id)
      const y = bById.get(id)
      const sub = ignoreItem(typed, (x ?? y)!.i)
      if (sub) walk(x?.o, y?.o, `Rels.${type}#${id}`, sub, names, out)
    }
  }
}

/** What a non-JSON body is, for a change line: kind, size, content type. */
function bodyFacts(body: Body | undefined): { kind: string; size: number; contentType: string | null } | null {
  if (!body) return null
  if (body.kind === 'empty') return { kind: 'empty', size: 0, contentType: null }
  return { kind: body.kind, size: body.size, contentType: body.contentType }
}

function sameBody(a: Body, b: Body): boolean {
  return sameJson(a, b)
}

/** The changes between two recorded exchanges of the same call. */
export function diffExchanges(a: Exchange, b: Exchange, options: DiffOptions): Change[] {
  const names: Names = new Set(options.ignoreNames ?? ['LocalId'])
  const out: Change[] = []
  const at = ignoreCursor(options.ignore)
  const ea = a.error?.code ?? null
  const eb = b.error?.code ?? null
  if (ea !== eb) out.push({ path: 'error', kind: ea === null ? 'added' : eb === null ? 'removed' : 'changed', a: ea ?? undefined, b: eb ?? undefined })
  const ra = a.response
  const rb = b.response
  if (!ra || !rb) {
    if (ra || rb) out.push({ path: 'response', kind: ra ? 'removed' : 'added', ...(ra ? { a: ra.status } : { b: rb!.status }) })
    return out
  }
  if (ra.status !== rb.status) out.push({ path: 'status', kind: 'changed', a: ra.status, b: rb.status })
  const ja = ra.body.kind === 'json' ? ra.body.json : undefined
  const jb = rb.body.kind === 'json' ? rb.body.json : undefined
  // Nested past the limit every part agrees on: compared whole (the walks below recurse), as one change.
  if ((ja !== undefined && exceedsJsonDepth(ja)) || (jb !== undefined && exceedsJsonDepth(jb))) {
    const same = ja !== undefined && jb !== undefined && canonicalJson(ja, options.ignore) === canonicalJson(jb, options.ignore)
    if (!same) out.push({ path: 'body', kind: 'changed', a: bodyFacts(ra.body), b: bodyFacts(rb.body) })
    return out
  }
  const envA = ja === undefined ? null : asEnvelope(ja)
  const envB = jb === undefined ? null : asEnvelope(jb)
  if (envA && envB) {
    const oa = ja as Record<string, Json>
    const ob = jb as Record<string, Json>
    if (envA.OK !== envB.OK) out.push({ path: 'OK', kind: 'changed', a: envA.OK, b: envB.OK })
    for (const key of new Set([...Object.keys(oa), ...Object.keys(ob)])) {
      if (key === 'OK' || key === 'Rels') continue
      const sub = names.has(key) ? null : ignoreField(at, key)
      if (!sub) continue
      // `Error: null` on one side and an object on the other reads as its fields added or removed.
      if (key === 'Error' && (oa[key] === null || ob[key] === null) && (isObject(oa[key]) || isObject(ob[key]))) {
        walk(isObject(oa[key]) ? oa[key] : {}, isObject(ob[key]) ? ob[key] : {}, key, sub, names, out)
        continue
      }
      walk(oa[key], ob[key], key, sub, names, out)
    }
    walkRels(envA.Rels as Record<string, Json[]>, envB.Rels as Record<string, Json[]>, at, names, out)
    return out
  }
  if (ja !== undefined && jb !== undefined) {
    walk(ja, jb, 'body', at, names, out)
    return out
  }
  if (!sameBody(ra.body, rb.body)) out.push({ path: 'body', kind: 'changed', a: bodyFacts(ra.body), b: bodyFacts(rb.body) })
  return out
}

/** One call of a session, for alignment: its replay key (a digest or the key itself) and how it reads. */
export type CallRef = { seq: number; key: string; label: string }

/** Two sessions' calls paired by replay key and occurrence: the n-th call with a key in A with the n-th in B. */
export type AlignedCall = { label: string; a: number | null; b: number | null }

/**
 * Pairs calls by key and occurrence, in A's order, then B's calls that have no partner. Labels read like
 * `POST /public/api/v1/chats/history #2` (the occurrence, from 1).
 */
export function alignCalls(a: readonly CallRef[], b: readonly CallRef[]): AlignedCall[] {
  const occurrence = (calls: readonly CallRef[]) => {
    const seen = new Map<string, number>()
    return calls.map((c) => {
      const n = (seen.get(c.key) ?? 0) + 1
      seen.set(c.key, n)
      return { ...c, n, id: `${c.key}\n${n}` }
    })
  }
  const xa = occurrence(a)
  const xb = occurrence(b)
  const bById = new Map(xb.map((c) => [c.id, c]))
  const paired = new Set<string>()
  const out: AlignedCall[] = []
  for (const c of xa) {
    const partner = bById.get(c.id)
    if (partner) paired.add(c.id)
    out.push({ label: `${c.label} #${c.n}`, a: c.seq, b: partner?.seq ?? null })
  }
  for (const c of xb) if (!paired.has(c.id)) out.push({ label: `${c.label} #${c.n}`, a: null, b: c.seq })
  return out
}
