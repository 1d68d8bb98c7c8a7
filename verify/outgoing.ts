/**
 * A recorded request made ready to send again: to the live upstream (its recorded path and query kept), with the
 * live token of its identity, a fresh `LocalId` wherever it had one (the client's clock: the server may refuse a
 * repeated one), and its body as the bytes the recording stands for.
 */
import { findToken } from '../model/auth.js'
import type { Body, HeaderPair, RecordedRequest } from '../model/session.js'
import { bodyBytes } from '../store/body-bytes.js'
import type { SentRequest } from '../store/live-exchange.js'

/** Where `record --redact` left a token: `<identity-N>`. */
const PLACEHOLDER = /<(identity-\d+)>/g
const IS_PLACEHOLDER = /^<identity-\d+>$/

/** One token swapped for another on the way out: `from` as stored, `to` as sent. */
export type Swap = { alias: string; from: string; to: string }

/** Not sent again: what the client and the live connection set, and the encoding of a body sent decoded. */
const NOT_SENT = /^(host|content-length|content-encoding|transfer-encoding|connection|keep-alive|proxy-connection|te|trailer|upgrade|expect)$/i

/** The text of a body that can hold a token (JSON, text, and the text parts of a multipart body). */
function* textsOf(body: Body): Generator<string> {
  if (body.kind === 'json') yield body.raw ?? JSON.stringify(body.json)
  else if (body.kind === 'text') yield body.text
  else if (body.kind === 'multipart') for (const p of body.parts) yield* textsOf(p.body)
}

/** The aliases whose `<identity-N>` placeholder the request holds, in a header or its body. */
export function placeholdersIn(req: RecordedRequest): Set<string> {
  const out = new Set<string>()
  const scan = (text: string) => {
    for (const m of text.matchAll(PLACEHOLDER)) out.add(m[1]!)
  }
  for (const [, value] of req.headers) scan(value)
  for (const text of textsOf(req.body)) scan(text)
  return out
}

/** The swaps for one request: each placeholder with its given token, and the recorded token of an identity given anew. */
export function swapsFor(req: RecordedRequest, tokens: Readonly<Record<string, string>>): Swap[] {
  const swaps: Swap[] = []
  for (const alias of placeholdersIn(req)) {
    const to = tokens[alias]
    if (to !== undefined) swaps.push({ alias, from: `<${alias}>`, to })
  }
  const alias = req.auth?.identity
  const found = findToken(req.headers)
  const given = alias === undefined ? undefined : tokens[alias]
  if (alias && given !== undefined && found && !IS_PLACEHOLDER.test(found.token) && found.token !== given) swaps.push({ alias, from: found.token, to: given })
  return swaps
}

function swapped(text: string, swaps: readonly Swap[]): string {
  let out = text
  for (const s of swaps) if (out.includes(s.from)) out = out.split(s.from).join(s.to)
  return out
}

/** Replaces every numeric `LocalId` at any depth with a fresh one; true when there was one. */
function freshLocalIds(value: unknown, next: () => number): boolean {
  if (Array.isArray(value)) return value.map((v) => freshLocalIds(v, next)).some(Boolean)
  if (typeof value !== 'object' || value === null) return false
  let found = false
  const obj = value as Record<string, unknown>
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'LocalId' && typeof v === 'number') {
      obj[k] = next()
      found = true
    } else if (freshLocalIds(v, next)) found = true
  }
  return found
}

function bodyOut(body: Body, swaps: readonly Swap[], nextLocalId: () => number): Buffer {
  if (body.kind === 'json') {
    const text = swapped(body.raw ?? JSON.stringify(body.json), swaps)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return Buffer.from(text, 'utf8')
    }
    // Bytes as recorded (the exact text) unless a LocalId had to change.
    return freshLocalIds(json, nextLocalId) ? Buffer.from(JSON.stringify(json), 'utf8') : Buffer.from(text, 'utf8')
  }
  if (body.kind === 'text') return Buffer.from(swapped(body.text, swaps), 'utf8')
  if (body.kind === 'multipart' && swaps.length) return Buffer.from(swapped(bodyBytes(body).toString('latin1'), swaps), 'latin1')
  return bodyBytes(body)
}

/** A clock for LocalIds: milliseconds, as the client makes them, never the same twice in a run. */
export function localIdClock(): () => number {
  let last = 0
  return () => (last = Math.max(Date.now(), last + 1))
}

/** The request to send for a recorded one, and what the session stores of it (the headers as sent, Host first). */
export function outgoingRequest(req: RecordedRequest, upstream: string, swaps: readonly Swap[], nextLocalId: () => number): SentRequest {
  const recorded = new URL(req.url)
  const target = new URL(recorded.pathname + recorded.search, upstream)
  const headers: HeaderPair[] = [['host', target.host]]
  for (const [name, value] of req.headers) if (!name.startsWith(':') && !NOT_SENT.test(name)) headers.push([name, swapped(value, swaps)])
  const body = bodyOut(req.body, swaps, nextLocalId)
  if (body.length) headers.push(['content-length', String(body.length)])
  return { method: req.method, url: target.href, httpVersion: '1.1', headers, body }
}
