/**
 * The bytes a stored body stands for: what replay serves and the viewer downloads. JSON is its exact text
 * where the recorder kept one; multipart is rebuilt from its parts (the recorder keeps parts, not the wire).
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

function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  return m?.[1] ?? m?.[2] ?? 'reltape-boundary'
}

/** A header parameter value in quotes, with what would break the header escaped or dropped. */
function quoted(value: string): string {
  return `"${value.replace(/["\\\r\n]/g, (c) => (c === '"' ? '%22' : c === '\\' ? '\\\\' : ''))}"`
}

/** A multipart body rebuilt from its stored parts, with the boundary of its content type when it has one. */
export function multipartBytes(body: MultipartBody): Buffer {
  const boundary = boundaryOf(body.contentType)
  const chunks: Buffer[] = []
  for (const part of body.parts) {
    let head = `--${boundary}\r\nContent-Disposition: form-data; name=${quoted(part.name)}`
    if (part.filename !== undefined) head += `; filename=${quoted(part.filename)}`
    head += '\r\n'
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`
    chunks.push(Buffer.from(head + '\r\n'), bodyBytes(part.body), Buffer.from('\r\n'))
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`))
  return Buffer.concat(chunks)
}
