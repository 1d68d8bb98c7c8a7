/**
 * The bytes a stored body stands for: what replay serves and the viewer downloads. JSON is its exact text
 * where the recorder kept one; multipart is rebuilt from its parts (the recorder keeps parts, not the wire), framed
 * as HAR import frames a form's params (har-body.ts).
 */
import type { Body, MultipartBody } from '../model/session.js'

export function bodyBytes(body: Body): Buffer {
  switch (body.kind) {
    case 'empty':
      return Buffer.alloc(0)
    case 'json':
      return Buffer.from(body.raw ?? JSON.stringify(body.json), 'utf8')
    case 'text':
      return Buffer.from(body.text, 'utf8')
    case 'bytes':
      return Buffer.from(body.base64, 'base64')
    case 'multipart':
      return multipartBytes(body)
  }
}

/** The boundary a multipart content type names, or undefined when it names none. */
export function boundaryOf(contentType: string): string | undefined {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m?.[1] ?? m?.[2]
}

/** One part of a multipart/form-data body as it is framed: its field name, file name, type and bytes. */
export type FramedPart = { name: string; filename?: string; contentType?: string; bytes: Buffer }

/** A header parameter value in quotes, with what would break the header escaped or dropped. */
function quoted(value: string, escapeBackslash: boolean): string {
  return `"${value.replace(/["\\\r\n]/g, (c) => (c === '"' ? '%22' : c === '\\' ? (escapeBackslash ? '\\\\' : c) : ''))}"`
}

/**
 * multipart/form-data bytes: each part between `--boundary` lines, with its Content-Disposition (and Content-Type).
 * `escapeBackslash` doubles a backslash in a name: stored parts are served so, as they always were; a HAR's params
 * keep it single, as browsers send it and as body-decode.ts reads a name back when the import classifies the bytes.
 */
export function frameMultipart(boundary: string, parts: Iterable<FramedPart>, o: { escapeBackslash: boolean }): Buffer {
  const chunks: Buffer[] = []
  for (const part of parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name, o.escapeBackslash)}`
    if (part.filename !== undefined) head += `; filename=${quoted(part.filename, o.escapeBackslash)}`
    head += '\r\n'
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`
    chunks.push(Buffer.from(head + '\r\n'), part.bytes, Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}

/** A multipart body rebuilt from its stored parts, with the boundary of its content type when it has one. */
export function multipartBytes(body: MultipartBody): Buffer {
  const parts = body.parts.map((part) => ({ ...part, bytes: bodyBytes(part.body) }))
  return frameMultipart(boundaryOf(body.contentType) ?? 'reltape-boundary', parts, { escapeBackslash: true })
}
