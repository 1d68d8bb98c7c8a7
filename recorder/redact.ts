/**
 * `--redact`: every occurrence of each known token in a stored exchange becomes `<identity-N>`, in the URL,
 * headers and bodies (JSON keys and values, text, multipart parts, even bytes), so a session can be shared.
 */
import type { Body, Exchange, HeaderPair } from '../model/session.js'

/** Token → replacement, e.g. `<identity-2>`. Longest tokens first, so that a token inside another is not cut. */
export type Redactions = ReadonlyArray<readonly [token: string, replacement: string]>

export function redactString(s: string, redactions: Redactions): string {
  let out = s
  for (const [token, replacement] of redactions) if (out.includes(token)) out = out.split(token).join(replacement)
  return out
}

function redactHeaders(headers: HeaderPair[], r: Redactions): HeaderPair[] {
  return headers.map(([n, v]) => [n, redactString(v, r)])
}

function redactJson(value: unknown, r: Redactions): unknown {
  if (typeof value === 'string') return redactString(value, r)
  if (Array.isArray(value)) return value.map((v) => redactJson(v, r))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[redactString(k, r)] = redactJson(v, r)
    return out
  }
  return value
}

function redactBytes(base64: string, r: Redactions): string {
  let buf = Buffer.from(base64, 'base64')
  let changed = false
  for (const [token, replacement] of r) {
    const t = Buffer.from(token)
    let at = buf.indexOf(t)
    if (at < 0) continue
    const pieces: Buffer[] = []
    let from = 0
    while (at >= 0) {
      pieces.push(buf.subarray(from, at), Buffer.from(replacement))
      from = at + t.length
      at = buf.indexOf(t, from)
    }
    pieces.push(buf.subarray(from))
    buf = Buffer.concat(pieces)
    changed = true
  }
  return changed ? buf.toString('base64') : base64
}

export function redactBody(body: Body, r: Redactions): Body {
  switch (body.kind) {
    case 'empty':
      return body
    case 'json': {
      const out = { ...body, json: redactJson(body.json, r) }
      if (body.raw !== undefined) out.raw = redactString(body.raw, r)
      return out
    }
    case 'text':
      return { ...body, text: redactString(body.text, r) }
    case 'bytes':
      return { ...body, base64: redactBytes(body.base64, r) }
    case 'multipart':
      return {
        ...body,
        parts: body.parts.map((p) => ({
          ...p,
          name: redactString(p.name, r),
          ...(p.filename !== undefined ? { filename: redactString(p.filename, r) } : {}),
          body: redactBody(p.body, r),
        })),
      }
  }
}

/** A copy of the exchange with every token replaced. */
export function redactExchange(e: Exchange, r: Redactions): Exchange {
  if (r.length === 0) return e
  return {
    ...e,
    request: { ...e.request, url: redactString(e.request.url, r), headers: redactHeaders(e.request.headers, r), body: redactBody(e.request.body, r) },
    response: e.response && { ...e.response, headers: redactHeaders(e.response.headers, r), body: redactBody(e.response.body, r) },
    error: e.error && { ...e.error, message: redactString(e.error.message, r) },
  }
}
