/**
 * `--redact`: every occurrence of each known token in a stored exchange becomes `<identity-N>`, in the URL,
 * headers and bodies (JSON keys and values, text, multipart parts, even bytes), so a session can be shared.
 * A token is found in every form it travels in: as it is, percent-encoded (in a query string, a form, a cookie),
 * JSON-escaped, and base64 or base64url of it, alone or inside a longer base64 text (a cookie, a bytes body).
 */
import { maskToken } from '../model/auth.js'
import type { Body, Exchange, HeaderPair } from '../model/session.js'

/** Characters a URL never needs to escape: a percent-encoded token keeps them as they are. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
/** Below this many characters, a base64 fragment of a token could match unrelated text: not looked for. */
const MIN_BASE64_FORM = 8

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** One character of a token as a pattern: itself, or percent-encoded (hex in either case), or JSON-escaped. */
function charPattern(c: string): string {
  if (UNRESERVED.test(c)) return escapeRegExp(c)
  const alternatives = [escapeRegExp(c)]
  let encoded = ''
  for (const byte of Buffer.from(c, 'utf8')) {
    const hex = byte.toString(16).toUpperCase().padStart(2, '0')
    encoded += `%${[...hex].map((h) => (/[A-F]/.test(h) ? `[${h}${h.toLowerCase()}]` : h)).join('')}`
  }
  alternatives.push(encoded)
  if (c === '/') alternatives.push('\\\\/')
  if (c === ' ') alternatives.push('\\+')
  return `(?:${alternatives.join('|')})`
}

/**
 * The base64 (and base64url) texts that give the token away: its own encoding, padded or not, and for a token
 * inside a longer encoded text, the characters that depend on the token alone at each of the three alignments.
 */
function base64Forms(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8')
  const forms = new Set<string>()
  const full = bytes.toString('base64')
  forms.add(full)
  for (const k of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64')
    // The first characters carry bits of the k bytes before the token, the last one bits of what follows it.
    const core = encoded.slice([0, 2, 3][k], Math.floor(((k + bytes.length) * 8) / 6))
    if (core.length >= MIN_BASE64_FORM) forms.add(core)
  }
  for (const f of [...forms]) forms.add(f.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))
  return [...forms].filter((f) => f.length >= MIN_BASE64_FORM).sort((a, b) => b.length - a.length)
}

function percentDecoded(token: string): string {
  try {
    return decodeURIComponent(token)
  } catch {
    return token
  }
}

type Secret = {
  token: string
  replacement: string
  /** Every form at once; alternatives longest first where they could start at the same place. */
  pattern: RegExp
  /** Substrings one of which every form contains: a text without any of them is left alone at once. */
  anchors: string[]
}

function compile(token: string, replacement: string): Secret {
  const alternatives: string[] = []
  const anchors: string[] = []
  for (const text of new Set([token, percentDecoded(token)])) {
    alternatives.push([...text].map(charPattern).join(''))
    const run = (text.match(/[A-Za-z0-9]+/g) ?? []).sort((a, b) => b.length - a.length)[0] ?? ''
    anchors.push(run.length >= 4 ? run : '')
    for (const form of base64Forms(text)) {
      alternatives.push(escapeRegExp(form))
      anchors.push(form)
    }
  }
  return { token, replacement, pattern: new RegExp(alternatives.join('|'), 'g'), anchors }
}

/** The tokens known so far, each with what replaces it. */
export class Secrets {
  readonly #list: Secret[] = []

  static of(pairs: Iterable<readonly [token: string, replacement: string]>): Secrets {
    const s = new Secrets()
    for (const [token, replacement] of pairs) s.add(token, replacement)
    return s
  }

  /** Adds a token (false when it was known already). */
  add(token: string, replacement: string): boolean {
    if (!token || this.#list.some((s) => s.token === token)) return false
    this.#list.push(compile(token, replacement))
    // Longest first, so that a token inside another is not cut.
    this.#list.sort((a, b) => b.token.length - a.token.length)
    return true
  }

  get size(): number {
    return this.#list.length
  }

  get tokens(): string[] {
    return this.#list.map((s) => s.token)
  }

  /** True when the text may hold a form of one of the tokens (a cheap test: false means surely not). */
  mayAppearIn(text: string): boolean {
    return this.#list.some((s) => s.anchors.some((a) => a === '' || text.includes(a)))
  }

  /** Every form of every token replaced by its replacement. */
  redact(text: string): string {
    return this.#replace(text, (s) => s.replacement)
  }

  /** Every form of every token replaced by its mask (its first and last 4 characters), for the screen. */
  mask(text: string): string {
    return this.#replace(text, (s) => maskToken(s.token))
  }

  #replace(text: string, by: (s: Secret) => string): string {
    let out = text
    for (const s of this.#list) {
      if (!s.anchors.some((a) => a === '' || out.includes(a))) continue
      s.pattern.lastIndex = 0
      out = out.replace(s.pattern, by(s))
    }
    return out
  }
}

/** Token → replacement, e.g. `<identity-2>`, as pairs or as a Secrets set. */
export type Redactions = Secrets | ReadonlyArray<readonly [token: string, replacement: string]>

const secretsOf = (r: Redactions): Secrets => (r instanceof Secrets ? r : Secrets.of(r))

function redactHeaders(headers: HeaderPair[], r: Secrets): HeaderPair[] {
  return headers.map(([n, v]) => [n, r.redact(v)])
}

function redactJson(value: unknown, r: Secrets): unknown {
  if (typeof value === 'string') return r.redact(value)
  if (Array.isArray(value)) return value.map((v) => redactJson(v, r))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[r.redact(k)] = redactJson(v, r)
    return out
  }
  return value
}

function redactBytes(base64: string, r: Secrets): string {
  // As latin1, every byte is one character: the (ASCII) forms of a token match the bytes they are made of.
  const text = Buffer.from(base64, 'base64').toString('latin1')
  const redacted = r.redact(text)
  return redacted === text ? base64 : Buffer.from(redacted, 'latin1').toString('base64')
}

function bodyWith(body: Body, r: Secrets): Body {
  switch (body.kind) {
    case 'empty':
      return body
    case 'json': {
      const out = { ...body, json: redactJson(body.json, r) }
      if (body.raw !== undefined) out.raw = r.redact(body.raw)
      return out
    }
    case 'text':
      return { ...body, text: r.redact(body.text) }
    case 'bytes':
      return { ...body, base64: redactBytes(body.base64, r) }
    case 'multipart':
      return {
        ...body,
        parts: body.parts.map((p) => ({
          ...p,
          name: r.redact(p.name),
          ...(p.filename !== undefined ? { filename: r.redact(p.filename) } : {}),
          body: bodyWith(p.body, r),
        })),
      }
  }
}

/** A copy of the exchange with every form of every token replaced. */
export function redactExchange(e: Exchange, redactions: Redactions): Exchange {
  const r = secretsOf(redactions)
  if (r.size === 0) return e
  return {
    ...e,
    request: { ...e.request, url: r.redact(e.request.url), headers: redactHeaders(e.request.headers, r), body: bodyWith(e.request.body, r) },
    response: e.response && { ...e.response, headers: redactHeaders(e.response.headers, r), body: bodyWith(e.response.body, r), statusText: r.redact(e.response.statusText) },
    error: e.error && { ...e.error, message: r.redact(e.error.message) },
  }
}

/** `<identity-N>` where a token was: what a redacted session holds instead of its tokens. */
const PLACEHOLDER = /<identity-\d+>/

/**
 * True when a session was recorded redacted: the first exchange that carried a token holds a placeholder in its
 * place. What is added to such a session later (replay's `record-missing`, `refresh`) must be redacted too.
 */
export async function sessionIsRedacted(reader: { rows: readonly { summary: { seq: number; identity: string | null } }[]; exchange(seq: number): Promise<Exchange> }): Promise<boolean> {
  const row = reader.rows.find((r) => r.summary.identity !== null)
  if (!row) return false
  const exchange = await reader.exchange(row.summary.seq)
  return exchange.request.headers.some(([, value]) => PLACEHOLDER.test(value))
}
