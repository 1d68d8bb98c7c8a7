/**
 * The replay key: which recorded requests count as "the same request". Pure (no Node imports), so the
 * viewer can show keys too. The key is a string used directly as a Map key: lookup cost does not grow
 * with the session.
 *
 * Key = method, path, sorted query, optional host and identity, and the body: JSON canonicalised (keys
 * sorted, ignored fields left out), multipart by its parts (not its boundary), anything else by a digest
 * of its bytes (computed by the caller, which has a hash function).
 */

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
type IgnoreNode = { end: boolean; children: Map<string, IgnoreNode> }

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
 * JSON with object keys sorted and the ignored fields left out. A name segment applied to an array
 * applies to each of its items, so `Messages.LocalId` reaches into a list of messages.
 */
export function canonicalJson(value: unknown, ignore: readonly FieldPath[] = []): string {
  return write(value, ignore.length ? [ignoreTrie(ignore)] : NO_NODES)
}

function write(value: unknown, nodes: IgnoreNode[]): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) {
    let s = '['
    for (let i = 0; i < value.length; i++) {
      const sub = itemNodes(nodes, i)
      if (sub) s += (s.length > 1 ? ',' : '') + write(value[i], sub)
    }
    return s + ']'
  }
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  let s = '{'
  let first = true
  for (const k of keys) {
    const v = obj[k]
    if (v === undefined) continue
    const sub = fieldNodes(nodes, k)
    if (!sub) continue
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + write(v, sub)
    first = false
  }
  return s + '}'
}

/** The values at a field path, in document order (several when the path crosses arrays). */
export function valuesAt(value: unknown, path: FieldPath): unknown[] {
  const out: unknown[] = []
  collect(value, path, 0, out)
  return out
}

function collect(value: unknown, path: FieldPath, i: number, out: unknown[]): void {
  if (i === path.length) {
    out.push(value)
    return
  }
  if (value === null || typeof value !== 'object') return
  const seg = path[i]!
  if (Array.isArray(value)) {
    if (seg === '*') for (const item of value) collect(item, path, i + 1, out)
    else if (/^\d+$/.test(seg)) collect(value[Number(seg)], path, i + 1, out)
    else for (const item of value) collect(item, path, i, out)
    return
  }
  const obj = value as Record<string, unknown>
  if (seg === '*') for (const k of Object.keys(obj)) collect(obj[k], path, i + 1, out)
  else if (Object.prototype.hasOwnProperty.call(obj, seg)) collect(obj[seg], path, i + 1, out)
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
type BodyMemo = { ignore: readonly FieldPath[]; key?: string; flat?: Map<string, string> }
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

function memoFlat(body: KeyBody & { kind: 'json' }, ignore: readonly FieldPath[]): Map<string, string> {
  const m = memoOf(body, ignore)
  return (m.flat ??= flatten(body.json, ignore))
}

function bodyDifferences(live: KeyBody, recorded: KeyBody, ignore: readonly FieldPath[]): Difference[] {
  if (memoKey(live, ignore) === memoKey(recorded, ignore)) return []
  if (live.kind !== recorded.kind) return [{ what: 'body', detail: `is ${describeKind(live)}, the recording's is ${describeKind(recorded)}` }]
  if (live.kind === 'json' && recorded.kind === 'json') {
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
  flattenInto(value, ignore.length ? [ignoreTrie(ignore)] : NO_NODES, '', out)
  return out
}

/** Walks like `write` (same ignored fields), collecting leaves by path instead of writing text. */
function flattenInto(v: unknown, nodes: IgnoreNode[], path: string, out: Map<string, string>): void {
  if (v === null || typeof v !== 'object') {
    out.set(path || '(body)', JSON.stringify(v) ?? 'null')
    return
  }
  let any = false
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const sub = itemNodes(nodes, i)
      if (!sub) continue
      any = true
      flattenInto(v[i], sub, `${path}[${i}]`, out)
    }
  } else {
    const obj = v as Record<string, unknown>
    for (const k of Object.keys(obj)) {
      if (obj[k] === undefined) continue
      const sub = fieldNodes(nodes, k)
      if (!sub) continue
      any = true
      flattenInto(obj[k], sub, path ? `${path}.${k}` : k, out)
    }
  }
  if (!any) out.set(path || '(body)', Array.isArray(v) ? '[]' : '{}')
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
