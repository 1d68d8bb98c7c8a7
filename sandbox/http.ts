/**
 * How the sandbox answers, on the wire: the API's headers and CORS (echoing the Origin), JSON envelopes
 * compressed the way the real server does it, and raw file bytes.
 *
 * Compression is chosen here, explicitly, rather than by a plugin, so the behaviour is exact:
 * gzip when Accept-Encoding allows gzip; otherwise brotli when it allows br; otherwise identity.
 * Compressed bodies are streamed (chunked, no Content-Length), like the recorded example.
 */
import { Readable } from 'node:stream'
import { createBrotliCompress, createGzip } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'

export const ALLOW_HEADERS =
  'Accept, Accept-Encoding, Accept-Language, Access-Control-Request-Headers, Access-Control-Request-Method, Authorization, Cache-Control, Connection, Content-Type, Cookie, Host, Origin, Pragma, Referer, X-Requested-With, User-Agent'
export const ALLOW_METHODS = 'GET, HEAD, POST, OPTIONS'

export type Envelope = { OK: boolean; Error: { Code: string; Message: string } | null; Result: unknown; Rels?: unknown }

export function ok(result: unknown, rels?: unknown): Envelope {
  return rels === undefined ? { OK: true, Error: null, Result: result } : { OK: true, Error: null, Result: result, Rels: rels }
}

export function fail(code: string, message: string): Envelope {
  return { OK: false, Error: { Code: code, Message: message }, Result: null }
}

/** CORS headers for a request: the Origin is echoed (credentials are allowed, so `*` would not do). */
export function corsHeaders(request: FastifyRequest): Record<string, string> {
  const origin = request.headers.origin
  return {
    ...(origin ? { 'Access-Control-Allow-Origin': origin } : {}),
    'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Headers': ALLOW_HEADERS,
    'Access-Control-Allow-Methods': ALLOW_METHODS,
  }
}

export type Encoding = 'gzip' | 'br' | 'identity'

/** The encoding for a response, from the request's Accept-Encoding (q=0 means refused). */
export function chooseEncoding(acceptEncoding: string | undefined): Encoding {
  const accepted = new Set<string>()
  for (const part of (acceptEncoding ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';')
    if (!name) continue
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined)
    if (q !== undefined && Number(q) === 0) continue
    accepted.add(name)
  }
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip'
  if (accepted.has('br')) return 'br'
  return 'identity'
}

/** Sends JSON text (normally an envelope) with the API's headers, compressed as the client allows. */
export function sendJsonText(request: FastifyRequest, reply: FastifyReply, text: string | Buffer, status = 200): FastifyReply {
  const encoding = chooseEncoding(request.headers['accept-encoding'])
  reply
    .code(status)
    .headers({
      'Content-Type': 'application/json; charset=utf-8',
      Vary: 'Accept-Encoding',
      ...corsHeaders(request),
      Pragma: 'no-cache',
      'Cache-Control': 'private, must-revalidate',
    })
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text
  if (encoding === 'identity') return reply.send(bytes)
  reply.header('Content-Encoding', encoding)
  const compressor = encoding === 'gzip' ? createGzip() : createBrotliCompress()
  return reply.send(Readable.from([bytes]).pipe(compressor))
}

export function sendEnvelope(request: FastifyRequest, reply: FastifyReply, envelope: Envelope, status = 200): FastifyReply {
  return sendJsonText(request, reply, JSON.stringify(envelope), status)
}

/** Sends a file's bytes as they are: no envelope, no compression, with its own content type. */
export function sendBytes(request: FastifyRequest, reply: FastifyReply, bytes: Buffer, contentType: string, name: string): FastifyReply {
  return reply
    .code(200)
    .headers({
      'Content-Type': contentType,
      'Content-Disposition': `inline; filename*=UTF-8''${encodeURIComponent(name)}`,
      ...corsHeaders(request),
      'Cache-Control': 'private, must-revalidate',
      'X-Content-Type-Options': 'nosniff',
    })
    .send(bytes)
}
