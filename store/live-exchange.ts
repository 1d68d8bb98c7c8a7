/**
 * An exchange made from a request sent to the live API and what came back, stored as the recorder stores one:
 * headers as [name, value] pairs in wire order, bodies decoded from their Content-Encoding and classified (JSON,
 * text, bytes, multipart), the token's identity named by the caller (a session writer's `identityFor`).
 */
import { randomUUID } from 'node:crypto'
import { cookieValue, findToken, SESSION_COOKIE } from '../model/auth.js'
import { headerValue } from '../model/headers.js'
import type { Body, Exchange, HeaderPair, RecordedRequest, RecordedResponse } from '../model/session.js'
// The recorder's body decoding, so that a live exchange stores its bodies exactly as a recorded one does.
import { classifyBody, decodeBody } from './body-decode.js'
import type { UpstreamResult } from './upstream-client.js'

/** Bodies over this are stored cut, as the recorder's default `--max-body`. */
export const LIVE_MAX_BODY = 50 * 1024 * 1024

/** The request as it went out: what the session stores of it. */
export type SentRequest = {
  method: string
  url: string
  httpVersion: string
  headers: HeaderPair[]
  /** The body's bytes, encoded as its Content-Encoding header says (if it says anything). */
  body: Buffer
}

export type LiveExchangeInput = {
  seq: number
  startedAt: Date
  sent: SentRequest
  result: UpstreamResult
  /** The alias of a token (created on first sight when a session is written); null to store no identity. */
  identityOf: (token: string) => string | null
  /** @default LIVE_MAX_BODY */
  maxBody?: number
}

async function storedBody(bytes: Buffer, headers: readonly HeaderPair[], maxBody: number): Promise<Body> {
  const decoded = await decodeBody(bytes, headerValue(headers, 'content-encoding') ?? null)
  return classifyBody(decoded.bytes, headerValue(headers, 'content-type'), { maxBody })
}

export async function liveExchange(input: LiveExchangeInput): Promise<Exchange> {
  const { sent, result } = input
  const maxBody = input.maxBody ?? LIVE_MAX_BODY
  const found = findToken(sent.headers)
  const alias = found ? input.identityOf(found.token) : null
  const request: RecordedRequest = {
    method: sent.method,
    url: sent.url,
    httpVersion: sent.httpVersion,
    headers: sent.headers,
    body: await storedBody(sent.body, sent.headers, maxBody),
    auth: found && alias ? { via: found.via, identity: alias } : null,
  }
  let response: RecordedResponse | null = null
  if (result.reply) {
    const r = result.reply
    for (const [name, value] of r.headers) {
      if (name.toLowerCase() !== 'set-cookie') continue
      // A token the server hands out is an identity too, as the recorder counts it.
      const token = cookieValue(value.split(';')[0] ?? '', SESSION_COOKIE)
      if (token && token !== 'deleted') input.identityOf(token)
    }
    response = {
      status: r.status,
      statusText: r.statusText,
      headers: r.headers,
      body: await storedBody(r.body, r.headers, maxBody),
      contentEncoding: headerValue(r.headers, 'content-encoding') ?? null,
    }
  }
  return {
    seq: input.seq,
    id: randomUUID(),
    startedAt: input.startedAt.toISOString(),
    durationMs: result.durationMs,
    request,
    response,
    error: result.error,
  }
}
