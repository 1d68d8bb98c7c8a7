/**
 * Bodies as the viewer serves them: in the exchange JSON (large ones cut, so a tab does not freeze; JSON nested past
 * MAX_JSON_DEPTH as its text, since the UI's tree renders by recursion), and raw (the decoded bytes, served so that
 * they cannot run on the viewer's origin).
 */
import { exceedsJsonDepth, MAX_JSON_DEPTH, mayExceedJsonDepth, tooDeepText } from '../model/json-depth.js'
import { isJsonContentType } from '../model/match.js'
import type { Body, Exchange, JsonBody } from '../model/session.js'

/** Bodies larger than this are replaced by their first `PREVIEW_BYTES` in the exchange JSON. */
export const OMIT_OVER_BYTES = 2 * 1024 * 1024
export const PREVIEW_BYTES = 256 * 1024

/** A body too large to send whole: its start as text; the raw endpoint serves the whole thing. */
export type OmittedBody = { kind: 'text'; text: string; contentType: string; size: number; truncated: true; omitted: true; note?: string }

/**
 * A JSON body nested deeper than MAX_JSON_DEPTH, sent as its text with `note` saying why it is not a tree. Its text is
 * empty when the session holds it parsed only, too deep to write back out (the raw endpoint then names the exchange).
 */
export type DeepJsonBody = { kind: 'text'; text: string; contentType: string; size: number; truncated?: boolean; tooDeep: true; note: string }

const DEEP_NOTE = `${tooDeepText()}: shown as text`

/** Text (and the words to show with it) for a JSON body the UI must not get as a tree. */
function deepAsText(body: JsonBody & { truncated?: boolean }): DeepJsonBody {
  let text = body.raw
  if (text === undefined) {
    try {
      text = JSON.stringify(body.json)
    } catch {
      // Deeper than JSON.stringify reaches (only a hand-made file holds that): nothing to show.
    }
  }
  const note = DEEP_NOTE + (text === undefined ? ', but the session holds no text of it to show' : '')
  return { kind: 'text', text: text ?? '', contentType: body.contentType, size: body.size, ...(body.truncated ? { truncated: true } : {}), tooDeep: true, note }
}

/** True for text that is JSON nested past the limit (a recorder keeps such a body as text). */
function deepJsonText(text: string): boolean {
  // Each level takes two characters at least, one of them an opening bracket: a shorter text, or one with fewer
  // opening brackets than levels, cannot be too deep, and is not parsed.
  if (text.length <= 2 * MAX_JSON_DEPTH || !mayExceedJsonDepth(text)) return false
  try {
    return exceedsJsonDepth(JSON.parse(text))
  } catch {
    return false
  }
}

/** The body with JSON past MAX_JSON_DEPTH as text with a note, however it was stored; any other as it is. */
function depthChecked(body: Body): Body | DeepJsonBody {
  if (body.kind === 'json') return exceedsJsonDepth(body.json) ? deepAsText(body) : body
  if (body.kind === 'text' && isJsonContentType(body.contentType) && body.size <= OMIT_OVER_BYTES && deepJsonText(body.text))
    return { ...body, tooDeep: true, note: DEEP_NOTE }
  return body
}

function textOf(body: Body): string {
  switch (body.kind) {
    case 'json':
      return body.raw ?? JSON.stringify(body.json, null, 2)
    case 'text':
      return body.text
    default:
      return ''
  }
}

type ShownBody = Body | OmittedBody | DeepJsonBody

function preview(stored: Body): ShownBody {
  // The depth is checked first: a deep body's text is what a preview is cut from.
  const body = depthChecked(stored)
  if (body.kind === 'empty' || body.size <= OMIT_OVER_BYTES) {
    if (body.kind !== 'multipart') return body
    // A part can be deep JSON too.
    return { ...body, parts: body.parts.map((p) => ({ ...p, body: preview(p.body) as Body })) }
  }
  const text =
    body.kind === 'bytes' || body.kind === 'multipart'
      ? `(${body.kind === 'bytes' ? 'binary' : 'multipart'} body of ${body.size} bytes, too large to show here: open the raw body)`
      : textOf(body as Body).slice(0, PREVIEW_BYTES)
  return { kind: 'text', text, contentType: body.contentType, size: body.size, truncated: true, omitted: true, ...('note' in body ? { note: body.note } : {}) }
}

/** The exchange as the UI receives it: bodies over 2 MB replaced by a preview, JSON past MAX_JSON_DEPTH by its text. */
export function exchangeForView(exchange: Exchange): Exchange {
  const request = { ...exchange.request, body: preview(exchange.request.body) as Body }
  const response = exchange.response ? { ...exchange.response, body: preview(exchange.response.body) as Body } : null
  return { ...exchange, request, response }
}


/** Raster images a browser decodes without running anything: the only types shown inline. SVG is not one. */
const SAFE_INLINE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])

export function mediaType(contentType: string): string {
  return contentType.split(';')[0]?.trim().toLowerCase() ?? ''
}

export function isSafeInlineImage(contentType: string): boolean {
  return SAFE_INLINE.has(mediaType(contentType))
}

const EXTENSIONS: Record<string, string> = {
  'application/json': 'json',
  'text/plain': 'txt',
  'text/html': 'html',
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/gif': 'gif',
  'image/webp': 'webp',
  'image/svg+xml': 'svg',
  'application/pdf': 'pdf',
  'multipart/form-data': 'multipart',
}

/** A download name made only of safe characters: `example-4-response.png`. */
export function downloadName(session: string, seq: number, side: string, contentType: string): string {
  const ext = EXTENSIONS[mediaType(contentType)] ?? 'bin'
  return `${session}-${seq}-${side}.${ext}`.replace(/[^A-Za-z0-9._-]/g, '_')
}
