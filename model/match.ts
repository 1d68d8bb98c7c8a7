/**
 * The replay key: which recorded requests count as "the same request". Pure (no Node imports), so the
 * viewer can show keys too. The key is a string used directly as a Map key: lookup cost does not grow
 * with the session.
 *
 * Key = method, path, sorted query, optional host and identity, and the body: JSON canonicalised (keys
 * sorted, ignored fields left out), multipart by its parts (not its boundary), anything else by a digest
 * of its bytes (computed by the caller, which has a hash function).
 */
import { exceedsJsonDepth, tooDeepText } from './json-depth.js'

/** A field path such as `LocalId`, `Message.LocalId`, `Items[].LocalId`, `Items.*.LocalId` or `Items[0].Id`, split. */
export type FieldPath = readonly string[]

/** A body reduced to what matching looks at. */
export type KeyBody =
  | { kind: 'empty' }
  | { kind: 'json'; json: unknown }
  /** `digest` is a hash of the bytes; `size` their length (shown in miss messages). */
  | { kind: 'bytes'; digest: string; size: number }
  | { kind: 'multipart'; parts: KeyPart[] }

export type KeyPart = { name: string; filename: string | null; contentType: string | null; digest: string; size: number }

/** A request reduced to what matching looks at: the same shape for a recording and for a live request. */
export type RequestShape = {
  method: string
  path: string
  /** [name, value] pairs, decoded; order does not matter. */
  query: ReadonlyArray<readonly [string, string]>
  /** `host[:port]` as the client addressed it, lowercased. */
  host: string
  /** The identity alias (`identity-1`), `unknown:<hash>` for a token the session never saw, or null without a token. */
  identity: string | null
  body: KeyBody
}

/** What goes into a key. Resolved once from the user's options. */
export type MatchRules = {
  ignoreFields: readonly FieldPath[]
  matchIdentity: boolean
  matchHost: boolean
}

/** Splits `a.b[].c`, `a.*.c` or `a[2].c` into segments; `[]` and `*` both become `*`. */
export function parseFieldPath(text: string): FieldPath {
  const out: string[] = []
  for (const raw of text.split('.')) {
    const m = /^([^[\]]*)((?:\[\d*\])*)$/.exec(raw)
    if (!m || raw === '') throw new Error(`not a field path: ${JSON.stringify(text)} (use a.b, a[].b, a.*.b or a[0].b)`)
    if (m[1]) out.push(m[1])
    for (const idx of m[2]!.match(/\[\d*\]/g) ?? []) out.push(idx === '[]' ? '*' : idx.slice(1, -1))
  }
  if (out.length === 0 || out.some((s) => s === '')) throw new Error(`not a field path: ${JSON.stringify(text)}`)
  return out
}

/** A trie of ignored paths, so that one walk over the body both sorts keys and leaves fields out. */
export type IgnoreNode = { end: boolean; children: Map<string, IgnoreNode> }

const compiled = new WeakMap<readonly FieldPath[], IgnoreNode>()

function ignoreTrie(paths: readonly FieldPath[]): IgnoreNode {
  let root = compiled.get(paths)
  if (root) return root
  root = { end: false, children: new Map() }
  for (const path of paths) {
    let node = root
    for (const seg of path) {
      let next = node.children.get(seg)
      if (!next) node.children.set(seg, (next = { end: false, children: new Map() }))
      node = next
    }
    node.end = true
  }
  compiled.set(paths, root)
  return root
}

const NO_NODES: IgnoreNode[] = []

function childNodes(nodes: IgnoreNode[], key: string): IgnoreNode[] {
  if (nodes.length === 0) return NO_NODES
  let out: IgnoreNode[] | null = null
  for (const n of nodes) {
    const a = n.children.get(key)
    const b = n.children.get('*')
    if (a) (out ??= []).push(a)
    if (b) (out ??= []).push(b)
  }
  return out ?? NO_NODES
}

/**
 * The ignore rule, shared by every walk over a body: the nodes an array item at `index` sees (the array's own:
 * a name passes through lists, and those for its index or `*`), or null when the item is ignored.
 */
function itemNodes(nodes: IgnoreNode[], index: number): IgnoreNode[] | null {
  if (nodes.length === 0) return NO_NODES
  const own = childNodes(nodes, String(index))
  if (own.some((n) => n.end)) return null
  return [...nodes, ...own]
}

/** The nodes an object field `key` sees, or null when the field is ignored. */
function fieldNodes(nodes: IgnoreNode[], key: string): IgnoreNode[] | null {
  const sub = childNodes(nodes, key)
  return sub.length && sub.some((n) => n.end) ? null : sub
}

/**
 * Where a walk over a body stands with respect to the ignored fields: the same rule for every walk (the replay key,
 * a miss explained, a diff). `field`/`item` give the cursor one level down, or null when that value is ignored.
 */
export type IgnoreCursor = { readonly nodes: IgnoreNode[] }

export function ignoreCursor(paths: readonly FieldPath[]): IgnoreCursor {
  return { nodes: paths.length ? [ignoreTrie(paths)] : NO_NODES }
}

export function ignoreField(at: IgnoreCursor, key: string): IgnoreCursor | null {
  const nodes = fieldNodes(at.nodes, key)
  return nodes ? { nodes } : null
}

export function ignoreItem(at: IgnoreCursor, index: number): IgnoreCursor | null {
  const nodes = itemNodes(at.nodes, index)
  return nodes ? { nodes } : null
}

/**
 * JSON with object keys sorted and the ignored fields left out. A name segment applied to an array
 * applies to each of its items, so `Messages.LocalId` reaches into a list of messages.
 * Walks without recursion: a body of any depth has a key (see json-depth.ts for where JSON stops being a tree).
 */
export function canonicalJson(value: unknown, ignore: readonly FieldPath[] = []): string {
  return write(value, ignore.length ? [ignoreTrie(ignore)] : NO_NODES)
}

/** An array or object being written: its items (an object's keys, sorted), the next one, and the rule's nodes. */
type WriteFrame = { array: unknown[] | null; object: Record<string, unknown> | null; keys: string[] | null; next: number; nodes: IgnoreNode[]; empty: boolean }

function openFrame(value: object, nodes: IgnoreNode[]): WriteFrame {
  if (Array.isArray(value)) return { array: value, object: null, keys: null, next: 0, nodes, empty: true }
  const object = value as Record<string, unknown>
  return { array: null, object, keys: Object.keys(object).sort(), next: 0, nodes, empty: true }
}

function write(root: unknown, rootNodes: IgnoreNode[]): string {
  if (root === null || typeof root !== 'object') return JSON.stringify(root) ?? 'null'
  let out = Array.isArray(root) ? '[' : '{'
  const stack: WriteFrame[] = [openFrame(root, rootNodes)]
  // Scalars are written in place; an array or object in hand is opened on the stack and walked next.
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!
    let child: object | null = null
    let childNodes: IgnoreNode[] = NO_NODES
    if (f.array) {
      const array = f.array
      while (f.next < array.length) {
        const i = f.next++
        const sub = itemNodes(f.nodes, i)
        if (!sub) continue
        if (!f.empty) out += ','
        f.empty = false
        const v = array[i]
        if (v === null || typeof v !== 'object') out += JSON.stringify(v) ?? 'null'
        else {
          child = v
          childNodes = sub
          break
        }
      }
      if (!child) out += ']'
    } else {
      const keys = f.keys!
      const object = f.object!
      while (f.next < keys.length) {
        const k = keys[f.next++]!
        const v = object[k]
        if (v === undefined) continue
        const sub = fieldNodes(f.nodes, k)
        if (!sub) continue
        out += (f.empty ? '' : ',') + JSON.stringify(k) + ':'
        f.empty = false
        if (v === null || typeof v !== 'object') out += JSON.stringify(v) ?? 'null'
        else {
          child = v
          childNodes = sub
          break
        }
      }
      if (!child) out += '}'
    }
    if (child) {
      out += Array.isArray(child) ? '[' : '{'
      stack.push(openFrame(child, childNodes))
    } else stack.pop()
  }
  return out
}

/** The values at a field path, in document order (several when the path crosses arrays). Walks without recursion. */
export function valuesAt(value: unknown, path: FieldPath): unknown[] {
  const out: unknown[] = []
  // Values still to follow, with how much of the path each has matched; children go on in reverse, so the
  // first is taken first.
  const values: unknown[] = [value]
  const at: number[] = [0]
  while (values.length > 0) {
    const v = values.pop()
    const i = at.pop()!
    if (i === path.length) {
      out.push(v)
      continue
    }
    if (v === null || typeof v !== 'object') continue
    const seg = path[i]!
    const pushAll = (items: unknown[], next: number) => {
      for (let j = items.length - 1; j >= 0; j--) {
        values.push(items[j])
        at.push(next)
      }
    }
    if (Array.isArray(v)) {
      if (seg === '*') pushAll(v, i + 1)
      else if (/^\d+$/.test(seg)) pushAll([v[Number(seg)]], i + 1)
      // A name applied to an array applies to each item.
      else pushAll(v, i)
      continue
    }
    const obj = v as Record<string, unknown>
    if (seg === '*') pushAll(Object.values(obj), i + 1)
    else if (Object.prototype.hasOwnProperty.call(obj, seg)) pushAll([obj[seg]], i + 1)
  }
  return out
}

/** True for `application/json`, `text/json` and `…+json` content types. */
export function isJsonContentType(contentType: string | null | undefined): boolean {
  if (!contentType) return false
  return /^[^;]*[/+]json\s*(;|$)/i.test(contentType)
}

/** True for `multipart/form-data` (and other multipart types). */
export function isMultipartContentType(contentType: string | null | undefined): boolean {
  return !!contentType && /^\s*multipart\//i.test(contentType)
}

/** Decodes a query string (without `?`) into pairs; a malformed escape is kept as written. */
export function parseQuery(search: string): Array<[string, string]> {
  if (!search) return []
  const out: Array<[string, string]> = []
  for (const part of search.split('&')) {
    if (!part) continue
    const eq = part.indexOf('=')
    const name = eq < 0 ? part : part.slice(0, eq)
    const value = eq < 0 ? '' : part.slice(eq + 1)
    out.push([decode(name), decode(value)])
  }
  return out
}

function decode(s: string): string {
  const plus = s.replace(/\+/g, ' ')
  try {
    return decodeURIComponent(plus)
  } catch {
    return plus
  }
}

/** The body part of a key. */
export function bodyKey(body: KeyBody, ignore: readonly FieldPath[]): string {
  switch (body.kind) {
    case 'empty':
      return 'empty'
    case 'json':
      return 'json:' + canonicalJson(body.json, ignore)
    case 'bytes':
      return 'bytes:' + body.digest
    case 'multipart':
      return 'multipart:' + JSON.stringify(body.parts.map((p) => [p.name, p.filename, p.contentType, p.digest]))
  }
}

function queryKey(query: RequestShape['query']): string {
  if (query.length === 0) return ''
  const sorted = [...query].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
  return JSON.stringify(sorted)
}

/** The key of a request under the rules: equal keys mean "the same request". */
export function keyOf(req: RequestShape, rules: MatchRules): string {
  return (
    req.method.toUpperCase() +
    ' ' +
    req.path +
    '\n' +
    queryKey(req.query) +
    '\n' +
    (rules.matchHost ? req.host : '') +
    '\n' +
    (rules.matchIdentity ? (req.identity ?? '-') : '') +
    '\n' +
    bodyKey(req.body, rules.ignoreFields)
  )
}

/** One way in which a live request differs from a recording. */
export type Difference =
  | { what: 'method'; live: string; recorded: string }
  | { what: 'path'; live: string; recorded: string }
  | { what: 'query'; name: string }
  | { what: 'host'; live: string; recorded: string }
  | { what: 'identity'; live: string | null; recorded: string | null }
  | { what: 'body field'; field: string }
  | { what: 'body'; detail: string }

/** Lists what differs between a live request and a recording, most important first. */
export function differences(live: RequestShape, recorded: RequestShape, rules: MatchRules): Difference[] {
  const out: Difference[] = []
  if (live.method.toUpperCase() !== recorded.method.toUpperCase()) out.push({ what: 'method', live: live.method, recorded: recorded.method })
  if (live.path !== recorded.path) out.push({ what: 'path', live: live.path, recorded: recorded.path })
  if (rules.matchHost && live.host !== recorded.host) out.push({ what: 'host', live: live.host, recorded: recorded.host })
  if (rules.matchIdentity && live.identity !== recorded.identity)
    out.push({ what: 'identity', live: live.identity, recorded: recorded.identity })
  if (queryKey(live.query) !== queryKey(recorded.query)) {
    const names = new Set([...live.query, ...recorded.query].map(([n]) => n))
    for (const name of [...names].sort()) {
      const a = JSON.stringify(live.query.filter(([n]) => n === name).map(([, v]) => v).sort())
      const b = JSON.stringify(recorded.query.filter(([n]) => n === name).map(([, v]) => v).sort())
      if (a !== b) out.push({ what: 'query', name })
    }
  }
  out.push(...bodyDifferences(live.body, recorded.body, rules.ignoreFields))
  return out
}

/**
 * Body keys and flattened fields, kept per body object: explaining a miss compares one live body with many
 * recordings, and each recording with many misses.
 */
type BodyMemo = { ignore: readonly FieldPath[]; key?: string; flat?: Map<string, string>; deep?: boolean }
const bodyMemo = new WeakMap<KeyBody, BodyMemo>()

function memoOf(body: KeyBody, ignore: readonly FieldPath[]): BodyMemo {
  let m = bodyMemo.get(body)
  if (!m || m.ignore !== ignore) bodyMemo.set(body, (m = { ignore }))
  return m
}

function memoKey(body: KeyBody, ignore: readonly FieldPath[]): string {
  const m = memoOf(body, ignore)
  return (m.key ??= bodyKey(body, ignore))
}

function memoDeep(body: KeyBody & { kind: 'json' }, ignore: readonly FieldPath[]): boolean {
  const m = memoOf(body, ignore)
  return (m.deep ??= exceedsJsonDepth(body.json))
}

function memoFlat(body: KeyBody & { kind: 'json' }, ignore: readonly FieldPath[]): Map<string, string> {
  const m = memoOf(body, ignore)
  return (m.flat ??= flatten(body.json, ignore))
}

function bodyDifferences(live: KeyBody, recorded: KeyBody, ignore: readonly FieldPath[]): Difference[] {
  if (memoKey(live, ignore) === memoKey(recorded, ignore)) return []
  if (live.kind !== recorded.kind) return [{ what: 'body', detail: `is ${describeKind(live)}, the recording's is ${describeKind(recorded)}` }]
  if (live.kind === 'json' && recorded.kind === 'json') {
    // Field by field, a deep chain would list paths of every length up to its depth: say so instead.
    if (memoDeep(live, ignore) || memoDeep(recorded, ignore))
      return [{ what: 'body', detail: `differs (${tooDeepText()}: not compared field by field)` }]
    const a = memoFlat(live, ignore)
    const b = memoFlat(recorded, ignore)
    const fields: Difference[] = []
    for (const [k, v] of a) if (b.get(k) !== v) fields.push({ what: 'body field', field: k })
    for (const k of b.keys()) if (!a.has(k)) fields.push({ what: 'body field', field: k })
    return fields.length ? fields : [{ what: 'body', detail: 'differs in structure' }]
  }
  if (live.kind === 'multipart' && recorded.kind === 'multipart') {
    const out: Difference[] = []
    const n = Math.max(live.parts.length, recorded.parts.length)
    for (let i = 0; i < n; i++) {
      const a = live.parts[i]
      const b = recorded.parts[i]
      if (!a || !b) out.push({ what: 'body', detail: `has ${live.parts.length} parts, the recording ${recorded.parts.length}` })
      else if (a.name !== b.name) out.push({ what: 'body', detail: `part ${i + 1} is named ${JSON.stringify(a.name)}, the recording's ${JSON.stringify(b.name)}` })
      else if (a.filename !== b.filename) out.push({ what: 'body', detail: `part ${JSON.stringify(a.name)} has file name ${JSON.stringify(a.filename)}, the recording's ${JSON.stringify(b.filename)}` })
      else if (a.contentType !== b.contentType) out.push({ what: 'body', detail: `part ${JSON.stringify(a.name)} has type ${a.contentType ?? 'none'}, the recording's ${b.contentType ?? 'none'}` })
      else if (a.digest !== b.digest) out.push({ what: 'body', detail: `part ${JSON.stringify(a.name)} has other content (${a.size} bytes, the recording's ${b.size})` })
      if (!a || !b) break
    }
    return out
  }
  if (live.kind === 'bytes' && recorded.kind === 'bytes')
    return [{ what: 'body', detail: `has other bytes (${live.size} bytes, the recording's ${recorded.size})` }]
  return [{ what: 'body', detail: 'differs' }]
}

function describeKind(body: KeyBody): string {
  switch (body.kind) {
    case 'empty':
      return 'empty'
    case 'json':
      return 'JSON'
    case 'bytes':
      return `${body.size} bytes of non-JSON`
    case 'multipart':
      return 'multipart'
  }
}

/** Leaf paths (`Items[0].Text`) to canonical values, ignored fields left out. */
function flatten(value: unknown, ignore: readonly FieldPath[]): Map<string, string> {
  const out = new Map<string, string>()
  type Step = { v: unknown; nodes: IgnoreNode[]; path: string }
  // Walks like `write` (same ignored fields), without recursion, collecting leaves by path instead of writing text.
  const stack: Step[] = [{ v: value, nodes: ignore.length ? [ignoreTrie(ignore)] : NO_NODES, path: '' }]
  while (stack.length > 0) {
    const { v, nodes, path } = stack.pop()!
    if (v === null || typeof v !== 'object') {
      out.set(path || '(body)', JSON.stringify(v) ?? 'null')
      continue
    }
    const children: Step[] = []
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const sub = itemNodes(nodes, i)
        if (sub) children.push({ v: v[i], nodes: sub, path: `${path}[${i}]` })
      }
    } else {
      const obj = v as Record<string, unknown>
      for (const k of Object.keys(obj)) {
        if (obj[k] === undefined) continue
        const sub = fieldNodes(nodes, k)
        if (sub) children.push({ v: obj[k], nodes: sub, path: path ? `${path}.${k}` : k })
      }
    }
    if (children.length === 0) out.set(path || '(body)', Array.isArray(v) ? '[]' : '{}')
    // In reverse, so that leaves come out in document order.
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!)
  }
  return out
}

/** One difference in words, e.g. `body field Text` or `path (/a, recorded /b)`. */
export function describeDifference(d: Difference): string {
  switch (d.what) {
    case 'method':
      return `method (${d.live}, recorded ${d.recorded})`
    case 'path':
      return `path (${d.live}, recorded ${d.recorded})`
    case 'query':
      return `query parameter ${d.name}`
    case 'host':
      return `host (${d.live}, recorded ${d.recorded})`
    case 'identity':
      return `identity (${d.live ?? 'none'}, recorded ${d.recorded ?? 'none'})`
    case 'body field':
      return `body field ${d.field}`
    case 'body':
      return `body: ${d.detail}`
  }
}

/** How far a recording is from a live request: lower is nearer. Path and method weigh most. */
export function distance(diffs: readonly Difference[]): number {
  let score = 0
  for (const d of diffs) {
    if (d.what === 'path') score += 1000 - 10 * commonSegments(d.live, d.recorded)
    else if (d.what === 'method') score += 500
    else if (d.what === 'host' || d.what === 'identity') score += 100
    else if (d.what === 'body') score += 20
    else score += 1
  }
  return score
}

function commonSegments(a: string, b: string): number {
  const x = a.split('/')
  const y = b.split('/')
  let n = 0
  while (n < x.length && n < y.length && x[n] === y[n]) n++
  return Math.min(n, 50)
}
