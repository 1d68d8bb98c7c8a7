/**
 * Bodies as the session stores them: decoded from their Content-Encoding, then classified as empty, JSON
 * (parsed, with the exact text kept where re-serialising would not give it back), text, bytes or multipart.
 */
import { brotliDecompress, brotliDecompressSync, gunzip, gunzipSync, inflate, inflateRaw, inflateRawSync, inflateSync } from 'node:zlib'
import { promisify } from 'node:util'
import { exceedsJsonDepth, MAX_JSON_DEPTH, mayExceedJsonDepth } from '../model/json-depth.js'
import type { Body, MultipartPart } from '../model/session.js'

/** Below this size a body is decoded synchronously: cheaper than a trip through the thread pool. */
const SYNC_DECODE_LIMIT = 256 * 1024

const asyncDecoders: Record<string, (b: Buffer) => Promise<Buffer>> = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  br: promisify(brotliDecompress),
  deflate: (b) => promisify(inflate)(b).catch(() => promisify(inflateRaw)(b)),
}
/** Output chunks are sized by the gzip trailer up to this: a trailer can lie, and must not make us allocate gigabytes. */
const GZIP_SIZED_CHUNK_LIMIT = 1024 * 1024

/**
 * gunzip with its output buffer sized by the trailer's ISIZE (the decoded length, mod 2³²): zlib's default is a
 * fresh 16 KiB buffer per call, which for a small API answer costs about as much to allocate as the inflating
 * itself. A wrong or multi-member ISIZE only means more chunks, as with the default: never wrong output.
 */
function gunzipSized(b: Buffer): Buffer {
  if (b.length < 18) return gunzipSync(b)
  const isize = b.readUInt32LE(b.length - 4)
  return gunzipSync(b, { chunkSize: Math.max(64, Math.min(isize + 1, GZIP_SIZED_CHUNK_LIMIT)) })
}

const syncDecoders: Record<string, (b: Buffer) => Buffer> = {
  gzip: gunzipSized,
  'x-gzip': gunzipSized,
  br: brotliDecompressSync,
  deflate: (b) => {
    try {
      return inflateSync(b)
    } catch {
      return inflateRawSync(b)
    }
  },
}

export type Decoded = { bytes: Buffer; decodeError?: string }

/**
 * Undoes a Content-Encoding (`gzip`, `br`, `deflate`, or a list of them applied in order).
 * An encoding it cannot undo, or a corrupt body, is kept as the wire bytes with `decodeError` set.
 */
export async function decodeBody(wire: Buffer, contentEncoding: string | null): Promise<Decoded> {
  if (!contentEncoding || wire.length === 0) return { bytes: wire }
  const codings = contentEncoding
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c && c !== 'identity')
    .reverse()
  let bytes = wire
  try {
    for (const c of codings) {
      const sync = syncDecoders[c]
      const dec = asyncDecoders[c]
      if (!sync || !dec) return { bytes: wire, decodeError: `unknown content-encoding ${JSON.stringify(c)}` }
      bytes = bytes.length <= SYNC_DECODE_LIMIT ? sync(bytes) : await dec(bytes)
    }
  } catch (e) {
    return { bytes: wire, decodeError: `could not decode ${contentEncoding}: ${(e as Error).message}` }
  }
  return { bytes }
}

export function isJsonType(contentType: string): boolean {
  return /^application\/(.+\+)?json\b|^text\/json\b/i.test(contentType.trim())
}

function isTextType(contentType: string): boolean {
  return /^text\/|^application\/(.+\+)?(xml|javascript|x-www-form-urlencoded|graphql|x-ndjson)\b/i.test(contentType.trim())
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function asUtf8(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes)
  } catch {
    return null
  }
}

export type ClassifyOptions = {
  /** Content beyond this many bytes is cut and the body marked `truncated` (its `size` stays the real one). */
  maxBody: number
  /** The real size when it is known to be larger than `bytes` (mockttp dropped a body over its limit). */
  realSize?: number
}

/**
 * The body of a JSON text (already known to be the whole body, well-formed UTF-16), and `JSON.stringify` of its
 * value: the check for `raw` makes that text, and a writer that serialises the exchange can reuse it.
 */
export function jsonBodyOfText(text: string, ct: string, size: number): { body: Body; jsonText?: string } {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    // Invalid JSON under a JSON content type: kept as the text it is.
    return { body: { kind: 'text', text, contentType: ct, size } }
  }
  // Nested past the depth every part of reltape walks: kept as its text, which replay serves and the viewer shows.
  // Each level takes two characters (an opening and a closing bracket): a shorter text cannot be that deep, nor one
  // with fewer opening brackets than levels (counted faster than the value is walked).
  if (text.length > 2 * MAX_JSON_DEPTH && mayExceedJsonDepth(text) && exceedsJsonDepth(json)) return { body: { kind: 'text', text, contentType: ct, size } }
  const again = JSON.stringify(json)
  return again === text ? { body: { kind: 'json', json, contentType: ct, size }, jsonText: text } : { body: { kind: 'json', json, raw: text, contentType: ct, size }, jsonText: again }
}

/** Classifies decoded bytes into a stored body. Never throws: anything it cannot parse is kept as text or bytes. */
export function classifyBody(bytes: Buffer, contentType: string | undefined, options: ClassifyOptions): Body {
  const ct = contentType ?? ''
  const size = Math.max(options.realSize ?? 0, bytes.length)
  if (size === 0) return { kind: 'empty' }
  if (size > bytes.length || bytes.length > options.maxBody) {
    const cut = bytes.subarray(0, Math.min(bytes.length, options.maxBody))
    const text = isJsonType(ct) || isTextType(ct) ? asUtf8(cut) : null
    return text !== null
      ? { kind: 'text', text, contentType: ct, size, truncated: true }
      : { kind: 'bytes', base64: cut.toString('base64'), contentType: ct, size, truncated: true }
  }
  if (/^multipart\/form-data\b/i.test(ct)) {
    const parts = parseMultipart(bytes, ct, options)
    if (parts) return { kind: 'multipart', parts, contentType: ct, size }
  }
  if (isJsonType(ct)) {
    const text = asUtf8(bytes)
    if (text !== null) return jsonBodyOfText(text, ct, size).body
  } else if (isTextType(ct) || ct === '') {
    const text = asUtf8(bytes)
    // eslint-disable-next-line no-control-regex
    if (text !== null && (ct !== '' || !/[\x00-\x08\x0e-\x1f]/.test(text))) return { kind: 'text', text, contentType: ct, size }
  }
  return { kind: 'bytes', base64: bytes.toString('base64'), contentType: ct, size }
}

/** Splits a multipart/form-data body into its parts, bytes exact; null when it is not well formed. */
export function parseMultipart(bytes: Buffer, contentType: string, options: ClassifyOptions): MultipartPart[] | null {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const boundary = m?.[1] ?? m?.[2]
  if (!boundary) return null
  const delimiter = Buffer.from(`--${boundary}`)
  const parts: MultipartPart[] = []
  let pos = bytes.indexOf(delimiter)
  if (pos < 0) return null
  for (;;) {
    pos += delimiter.length
    if (bytes[pos] === 0x2d && bytes[pos + 1] === 0x2d) return parts // closing `--boundary--`
    if (bytes[pos] === 0x0d && bytes[pos + 1] === 0x0a) pos += 2
    const headerEnd = bytes.indexOf('\r\n\r\n', pos)
    if (headerEnd < 0) return null
    const next = bytes.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), headerEnd + 4)
    if (next < 0) return null
    const headers = bytes.subarray(pos, headerEnd).toString('utf8').split('\r\n')
    const content = bytes.subarray(headerEnd + 4, next)
    let name = ''
    let filename: string | undefined
    let partType: string | undefined
    for (const line of headers) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const key = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim()
      if (key === 'content-disposition') {
        name = /\bname="([^"]*)"/i.exec(value)?.[1] ?? /\bname=([^;\s]+)/i.exec(value)?.[1] ?? ''
        filename = /\bfilename="([^"]*)"/i.exec(value)?.[1] ?? /\bfilename=([^;\s]+)/i.exec(value)?.[1]
      } else if (key === 'content-type') partType = value
    }
    const part: MultipartPart = { name, body: filename !== undefined ? bytesOrText(content, partType) : classifyBody(content, partType ?? 'text/plain', options) }
    if (filename !== undefined) part.filename = filename
    if (partType !== undefined) part.contentType = partType
    parts.push(part)
    pos = next + 2
  }
}

/** A file part: text only when its type says text and it is valid UTF-8, else bytes, so that it is kept exactly. */
function bytesOrText(content: Buffer, contentType: string | undefined): Body {
  const ct = contentType ?? 'application/octet-stream'
  if (content.length === 0) return { kind: 'empty' }
  const text = isTextType(ct) || isJsonType(ct) ? asUtf8(content) : null
  if (text !== null) return { kind: 'text', text, contentType: ct, size: content.length }
  return { kind: 'bytes', base64: content.toString('base64'), contentType: ct, size: content.length }
}
