/**
 * Bodies as the viewer serves them: in the exchange JSON (large ones cut, so a tab does not freeze),
 * and raw (the decoded bytes, served so that they cannot run on the viewer's origin).
 */
import type { Body, Exchange } from '../model/session.js'

/** Bodies larger than this are replaced by their first `PREVIEW_BYTES` in the exchange JSON. */
export const OMIT_OVER_BYTES = 2 * 1024 * 1024
export const PREVIEW_BYTES = 256 * 1024

/** A body too large to send whole: its start as text; the raw endpoint serves the whole thing. */
export type OmittedBody = { kind: 'text'; text: string; contentType: string; size: number; truncated: true; omitted: true }

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

function preview(body: Body): Body | OmittedBody {
  if (body.kind === 'empty' || body.size <= OMIT_OVER_BYTES) return body
  const text =
    body.kind === 'bytes' || body.kind === 'multipart'
      ? `(${body.kind === 'bytes' ? 'binary' : 'multipart'} body of ${body.size} bytes, too large to show here: open the raw body)`
      : textOf(body).slice(0, PREVIEW_BYTES)
  return { kind: 'text', text, contentType: body.contentType, size: body.size, truncated: true, omitted: true }
}

/** The exchange as the UI receives it: bodies over 2 MB replaced by a preview. */
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
