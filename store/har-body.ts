/**
 * Bodies between a HAR and a session. In: a HAR's `postData` or `content` (text, base64, a body file, or form
 * params) becomes the bytes the recorder would have seen, classified by the recorder's own rules; a body the HAR
 * declared but did not hold is stored `omitted`, never invented. Out: a stored body becomes HAR text (decoded, as
 * DevTools writes it), base64 for binary, or a body file in a Playwright zip.
 */
import { createHash } from 'node:crypto'
import { isUtf8 } from 'node:buffer'
import type { Content as HarContent, Param as HarParam } from 'har-format'
import type { HarBodyIn, ReltapeBodyFacts } from '../model/har.js'
import { headerValue } from '../model/headers.js'
import type { Body, HeaderPair, MultipartBody } from '../model/session.js'
import { classifyBody, decodeBody, isJsonType, jsonBodyOfText } from './body-decode.js'
import { bodyBytes, boundaryOf, frameMultipart, type FramedPart } from './body-bytes.js'

/** What reading a body needs from the import: body files, and somewhere to put warnings. */
export type BodyContext = {
  readFile(name: string): Promise<Buffer | null>
  warn(message: string): void
}

export type BodyInOptions = {
  /** JSON path of the body, for warnings (`log.entries[3].response.content`). */
  path: string
  /** The message's headers: Content-Type and Content-Encoding come from them first. */
  headers: readonly HeaderPair[]
  /** The size the HAR declares, for a body it does not hold (`content.size`, or `request.bodySize`). */
  declaredSize?: number
  /** What a reltape export said of the body. */
  facts?: ReltapeBodyFacts
}

const NO_LIMIT = { maxBody: Number.POSITIVE_INFINITY }

function omitted(contentType: string, size: number): Body {
  return { kind: 'bytes', base64: '', contentType, size, omitted: true }
}

/** True when a string is base64 (standard or URL alphabet, padding optional, line breaks allowed). */
function isBase64(s: string): boolean {
  const t = s.replace(/\s+/g, '')
  return t.length % 4 !== 1 && /^[A-Za-z0-9+/_-]*={0,2}$/.test(t)
}

/**
 * The bytes of text flagged base64, or null when it is not base64. Node's decoder skips what is not base64, so
 * decoding to the length the text's length promises proves it was all base64 (the common case, one pass); only
 * a text that falls short (line breaks, or not base64 at all) is looked at character by character.
 */
function fromBase64(s: string): Buffer | null {
  const bytes = Buffer.from(s, 'base64')
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0
  if (s.length % 4 !== 1 && bytes.length === Math.floor((s.length * 3) / 4) - pad) return bytes
  return isBase64(s) ? bytes : null
}

/** True when bytes start the way the outermost content-coding's output does (gzip and zlib have magic bytes, br none). */
function looksEncoded(bytes: Buffer, coding: string): boolean {
  if (bytes.length < 2) return false
  if (coding === 'gzip' || coding === 'x-gzip') return bytes[0] === 0x1f && bytes[1] === 0x8b
  if (coding === 'deflate') return ((bytes[0]! & 0x0f) === 8 && ((bytes[0]! << 8) | bytes[1]!) % 31 === 0) || !isUtf8(bytes)
  if (coding === 'br') return !isUtf8(bytes)
  return false
}

/** The form a HAR's params describe, as bytes (urlencoded, or multipart with the boundary of the content type). */
function bytesFromParams(params: NonNullable<HarBodyIn['params']>, contentType: string): { bytes: Buffer; missingFiles: Set<number> } {
  const missingFiles = new Set<number>()
  if (!/^multipart\/form-data\b/i.test(contentType)) {
    const form = new URLSearchParams(params.map((p): [string, string] => [p.name, p.value ?? '']))
    return { bytes: Buffer.from(form.toString()), missingFiles }
  }
  const parts = params.map((p, i): FramedPart => {
    if (p.fileName !== undefined && p.value === undefined) missingFiles.add(i)
    return { name: p.name, filename: p.fileName, contentType: p.contentType, bytes: Buffer.from(p.value ?? '') }
  })
  // No boundary in the type: framed with an empty one, which classifying the bytes then does not take for multipart.
  return { bytes: frameMultipart(boundaryOf(contentType) ?? '', parts, { escapeBackslash: false }), missingFiles }
}

/** What a HAR body became: the stored body, and `JSON.stringify(body.json)` where classifying it made that text. */
export type BodyIn = { body: Body; jsonText?: string }

function contentTypeOf(src: HarBodyIn | undefined, o: BodyInOptions): string {
  const mime = src?.mimeType && src.mimeType !== 'x-unknown' ? src.mimeType : undefined
  return headerValue(o.headers, 'content-type') ?? mime ?? ''
}

/** True when a string has no lone surrogate: its UTF-8 bytes decode back to it (ES2024's String#isWellFormed). */
const isWellFormed = (s: string): boolean => (s as string & { isWellFormed(): boolean }).isWellFormed()

/**
 * A stored body from a HAR's `postData` (request) or `content` (response): the bytes it holds, decoded from base64
 * (defensively: text that only claims to be base64 is kept as text), read from its body file, or rebuilt from form
 * params; a content-coding still on the bytes is undone (HAR text is decoded already, whatever the headers say).
 */
export async function bodyFromHar(src: HarBodyIn | undefined, o: BodyInOptions, ctx: BodyContext): Promise<BodyIn> {
  return jsonFromText(src, o) ?? { body: await bodyOf(src, o, ctx) }
}

/**
 * A JSON body the HAR holds as text (most API answers): classified from the string itself, into the body
 * classifyBody makes of the string's UTF-8 bytes (test/har-body.test.ts holds them to it), without encoding the
 * string to bytes and decoding them back; and with the text of its JSON, which the check for `raw` makes anyway
 * and the writer then need not make again. Null for anything else, which takes the general way: bytes, a body
 * file, params, a body the recorder cut, a string with a lone surrogate (its bytes would not give it back), or one
 * the general way has a warning for.
 */
function jsonFromText(src: HarBodyIn | undefined, o: BodyInOptions): BodyIn | null {
  const text = src?.text
  if (!src || text === undefined || text === '' || src.file !== undefined || src.encoding?.toLowerCase() === 'base64') return null
  const contentType = contentTypeOf(src, o)
  if (!isJsonType(contentType) || !isWellFormed(text)) return null
  const size = Buffer.byteLength(text)
  if (o.facts?.truncated && o.facts.size !== undefined && o.facts.size > size) return null
  if (src.size !== undefined && src.size > 0 && src.size !== size && text.includes('\uFFFD')) return null
  return jsonBodyOfText(text, contentType, size)
}

async function bodyOf(src: HarBodyIn | undefined, o: BodyInOptions, ctx: BodyContext): Promise<Body> {
  const contentType = contentTypeOf(src, o)
  const declared = Math.max(0, src?.size ?? -1, o.declaredSize ?? -1)
  let bytes: Buffer
  let raw = false // bytes that came as bytes (base64, a file): they may still carry a content-coding
  let multipartMissing: Set<number> | null = null
  if (src?.file !== undefined) {
    const got = await ctx.readFile(src.file)
    if (!got) {
      ctx.warn(`${o.path}._file: no body file ${JSON.stringify(src.file)} (in the zip, or beside the .har); stored as omitted (${declared} bytes declared)`)
      return omitted(contentType, declared)
    }
    bytes = got
    raw = true
  } else if (src?.text !== undefined && src.text !== '') {
    if (src.encoding?.toLowerCase() === 'base64') {
      const decoded = fromBase64(src.text)
      if (decoded) {
        bytes = decoded
        raw = true
      } else {
        ctx.warn(`${o.path}.text: flagged base64 but is not base64; kept as the text it is`)
        bytes = Buffer.from(src.text, 'utf8')
      }
    } else {
      bytes = Buffer.from(src.text, 'utf8')
      // Some exporters (Insomnia) write binary bodies as UTF-8 text: what was not UTF-8 became U+FFFD.
      if (src.size !== undefined && src.size > 0 && src.size !== bytes.length && src.text.includes('\uFFFD') && !headerValue(o.headers, 'content-encoding'))
        ctx.warn(`${o.path}.text: looks like binary read as UTF-8 (${src.size} bytes declared, ${bytes.length} held); kept as it is`)
    }
  } else if (src?.params && src.params.length > 0) {
    const rebuilt = bytesFromParams(src.params, contentType)
    bytes = rebuilt.bytes
    multipartMissing = rebuilt.missingFiles
    ctx.warn(`${o.path}: no text; the body is rebuilt from its ${src.params.length} param(s)`)
  } else {
    if (declared > 0) {
      // A reltape export of a body that was omitted already says so: nothing new to warn about.
      if (!o.facts?.omitted) ctx.warn(`${o.path}: no content (${declared} bytes declared); stored as omitted`)
      return omitted(contentType, declared)
    }
    return { kind: 'empty' }
  }

  const label = headerValue(o.headers, 'content-encoding')
  if (raw && label) {
    const codings = label.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c && c !== 'identity')
    const outer = codings[codings.length - 1]
    if (outer && looksEncoded(bytes, outer)) {
      const decoded = await decodeBody(bytes, label)
      if (decoded.decodeError) {
        ctx.warn(`${o.path}: labelled ${label} but does not decode (${decoded.decodeError}); kept as bytes`)
        return { kind: 'bytes', base64: bytes.toString('base64'), contentType, size: bytes.length }
      }
      bytes = decoded.bytes
    }
  }

  const facts = o.facts
  let body: Body
  if (facts?.truncated && facts.size !== undefined && facts.size > bytes.length) {
    // Cut by the recorder: classified as the recorder classified it (a cut JSON is text, an image bytes).
    body = classifyBody(bytes, contentType, { maxBody: bytes.length, realSize: facts.size })
  } else body = classifyBody(bytes, contentType, NO_LIMIT)
  if (multipartMissing && multipartMissing.size > 0 && body.kind === 'multipart') {
    for (const i of multipartMissing) {
      const part = body.parts[i]
      if (!part) continue
      part.body = omitted(part.contentType ?? 'application/octet-stream', 0)
      ctx.warn(`${o.path}.params[${i}]: file ${JSON.stringify(part.filename ?? '')} has no content in the HAR; stored as omitted`)
    }
  }
  if (facts?.size !== undefined && body.kind === 'multipart') body.size = facts.size
  return body
}

// ── export ────────────────────────────────────────────────────────────────────────────────────────────────────────

/** A body file of a Playwright zip: `<sha1>.<ext>`. */
export type BodyFile = { name: string; bytes: Buffer }

const EXTENSIONS: [RegExp, string][] = [
  [/^application\/(.+\+)?json\b/i, 'json'],
  [/^text\/html\b/i, 'html'],
  [/^text\/css\b/i, 'css'],
  [/^(text|application)\/(x-)?javascript\b/i, 'js'],
  [/^(text|application)\/(.+\+)?xml\b/i, 'xml'],
  [/^text\/plain\b/i, 'txt'],
  [/^image\/png\b/i, 'png'],
  [/^image\/jpe?g\b/i, 'jpeg'],
  [/^image\/gif\b/i, 'gif'],
  [/^image\/webp\b/i, 'webp'],
  [/^image\/svg\+xml\b/i, 'svg'],
  [/^application\/pdf\b/i, 'pdf'],
  [/^application\/octet-stream\b/i, 'bin'],
]

function extensionOf(mimeType: string): string {
  for (const [re, ext] of EXTENSIONS) if (re.test(mimeType)) return ext
  return 'dat'
}

function bodyFile(bytes: Buffer, mimeType: string): BodyFile {
  return { name: `${createHash('sha1').update(bytes).digest('hex')}.${extensionOf(mimeType)}`, bytes }
}

/** What the HAR's fields cannot say of a body, for `_reltape`; undefined when they say it all. */
function factsOf(body: Body, exported: number): ReltapeBodyFacts | undefined {
  const facts: ReltapeBodyFacts = {}
  if (body.kind !== 'empty' && body.size !== exported) facts.size = body.size
  if (body.truncated) facts.truncated = true
  if (body.omitted) facts.omitted = true
  return Object.keys(facts).length ? facts : undefined
}

function isTextual(body: Body, bytes: Buffer): boolean {
  if (body.kind === 'json' || body.kind === 'text') return true
  return body.kind === 'multipart' && isUtf8(bytes)
}

/** HAR `content` as reltape writes it: HAR 1.2's, plus Playwright's `_file`. */
export type HarContentOut = HarContent & { _file?: string }
/** HAR `postData` as browsers and Playwright write it: `text` and `params` both, `encoding` and `_file` when needed. */
export type HarPostDataOut = { mimeType: string; text: string; params: HarParam[]; encoding?: 'base64'; _file?: string }

export type ContentOut = { content: HarContentOut; file?: BodyFile; facts?: ReltapeBodyFacts }

/** A response body as HAR `content`: decoded text, base64 for binary, or (in a zip) a body file. */
export function contentOf(body: Body, headers: readonly HeaderPair[], zip: boolean): ContentOut {
  const mimeType = (body.kind !== 'empty' && body.contentType) || headerValue(headers, 'content-type') || 'x-unknown'
  const bytes = bodyBytes(body)
  const facts = factsOf(body, bytes.length)
  const out: ContentOut = { content: { size: body.kind === 'empty' ? 0 : body.size, mimeType } }
  if (facts) out.facts = facts
  if (bytes.length === 0) return out
  if (zip) {
    out.file = bodyFile(bytes, mimeType)
    out.content._file = out.file.name
  } else if (isTextual(body, bytes)) out.content.text = bytes.toString('utf8')
  else {
    out.content.text = bytes.toString('base64')
    out.content.encoding = 'base64'
  }
  return out
}

export type PostDataOut = { postData?: HarPostDataOut; bodySize: number; file?: BodyFile; facts?: ReltapeBodyFacts }

function paramsOf(body: Body, bytes: Buffer, mimeType: string): HarParam[] {
  if (/^application\/x-www-form-urlencoded\b/i.test(mimeType) && isUtf8(bytes)) return [...new URLSearchParams(bytes.toString('utf8'))].map(([name, value]) => ({ name, value }))
  if (body.kind !== 'multipart') return []
  return (body as MultipartBody).parts.map((part) => {
    const p: HarParam = { name: part.name }
    if (part.filename !== undefined) p.fileName = part.filename
    if (part.contentType !== undefined) p.contentType = part.contentType
    if (part.body.kind === 'text' || part.body.kind === 'json') p.value = bodyBytes(part.body).toString('utf8')
    return p
  })
}

/**
 * A request body as HAR `postData`: `mimeType` and `text` (decoded), base64 with `encoding` for binary (which
 * Playwright reads, and DevTools shows as text), or (in a zip) a body file as Playwright writes it; form params too.
 */
export function postDataOf(body: Body, headers: readonly HeaderPair[], zip: boolean): PostDataOut {
  const bytes = bodyBytes(body)
  const facts = factsOf(body, bytes.length)
  if (body.kind === 'empty' || (body.omitted && bytes.length === 0)) {
    const out: PostDataOut = { bodySize: body.kind === 'empty' ? 0 : body.size }
    if (facts) out.facts = facts
    return out
  }
  const mimeType = body.contentType || headerValue(headers, 'content-type') || 'application/octet-stream'
  const postData: HarPostDataOut = { mimeType, params: paramsOf(body, bytes, mimeType), text: '' }
  const out: PostDataOut = { postData, bodySize: bytes.length }
  if (facts) out.facts = facts
  if (zip) {
    out.file = bodyFile(bytes, mimeType)
    postData._file = out.file.name
  } else if (isTextual(body, bytes)) postData.text = bytes.toString('utf8')
  else {
    postData.text = bytes.toString('base64')
    postData.encoding = 'base64'
  }
  return out
}


