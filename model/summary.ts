/**
 * One row of the viewer's exchange list: what the list needs, without bodies.
 * Built by the viewer's server from an Exchange; the UI receives it as JSON.
 */
import { asEnvelope, resultCount } from './envelope.js'
import { headerValue } from './headers.js'
import { exceedsJsonDepth } from './json-depth.js'
import type { Exchange } from './session.js'

export type ExchangeSummary = {
  seq: number
  id: string
  startedAt: string
  method: string
  /** The URL's path and query, e.g. `/public/api/v1/chats/history`. */
  path: string
  host: string
  /** HTTP status, or null when there was no response. */
  status: number | null
  /** The envelope's OK, or null when the response is not an envelope. */
  ok: boolean | null
  /** The envelope Error's `Code` (or a short text of it) when OK is false. */
  errorCode: string | null
  /** A transport failure's code (UPSTREAM_UNREACHABLE, CLIENT_ABORTED, …). */
  transportError: string | null
  identity: string | null
  durationMs: number
  requestSize: number
  responseSize: number
  /** Items in an array Result, 1 for an object, 0 for null; null when not an envelope. */
  resultCount: number | null
  /** The Rels types present, e.g. ['Clients', 'Users']. */
  relsTypes: string[]
  /** Content type of the response body. */
  contentType: string | null
}

/** One session in a listing: what `reltape sessions --json` prints for each (a contract) and the viewer lists. */
export type SessionSummary = {
  name: string
  file: string
  exchanges: number
  /** Envelopes with `OK: false` plus transport errors. */
  errors: number
  identities: number
  createdAt: string | null
  updatedAt: string | null
  /** Set when the session could not be read: the clear message of why. Such a session is listed, not skipped. */
  invalid?: string
}

/** True when an exchange failed: its envelope says `OK: false`, or it failed in transport. */
export function isErrorSummary(s: Pick<ExchangeSummary, 'ok' | 'transportError'>): boolean {
  return s.ok === false || s.transportError !== null
}

export type ExchangePage = { total: number; offset: number; items: ExchangeSummary[] }

/** The name of an exchange's envelope error, for lists: `Code`, else `Message`, else the JSON text. */
export function errorCodeOf(error: unknown): string | null {
  if (error === null || error === undefined) return null
  if (typeof error === 'string') return error
  if (typeof error === 'object') {
    const e = error as Record<string, unknown>
    for (const k of ['Code', 'code', 'Message', 'message']) if (typeof e[k] === 'string' || typeof e[k] === 'number') return String(e[k])
  }
  // An Error too deep to write out (it would overflow the stack) has no short text: it is just an error.
  if (exceedsJsonDepth(error)) return 'Error'
  return JSON.stringify(error).slice(0, 80)
}

export type { Exchange }

/** Splits an absolute URL into host and path+query without the URL global (model/ has no DOM or Node types). */
function splitUrl(url: string): { host: string; path: string } {
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)([^#]*)/i.exec(url)
  if (!m) return { host: '', path: url }
  const path = m[2] ?? ''
  return { host: m[1] ?? '', path: path === '' ? '/' : path.startsWith('?') ? `/${path}` : path }
}

function bodySize(body: { kind: string; size?: number } | undefined): number {
  return body === undefined || body.kind === 'empty' ? 0 : (body.size ?? 0)
}

/** The list row of an exchange: what the viewer's list shows, without bodies. Pure and cheap (no body copying). */
export function summarize(exchange: Exchange): ExchangeSummary {
  const { host, path } = splitUrl(exchange.request.url)
  const response = exchange.response
  const body = response?.body
  const json = body?.kind === 'json' ? body.json : undefined
  const envelope = json === undefined ? null : asEnvelope(json)
  return {
    seq: exchange.seq,
    id: exchange.id,
    startedAt: exchange.startedAt,
    method: exchange.request.method,
    path,
    host,
    status: response ? response.status : null,
    ok: envelope ? envelope.OK : null,
    errorCode: envelope && !envelope.OK ? (errorCodeOf(envelope.Error) ?? 'Error') : null,
    transportError: exchange.error ? exchange.error.code : null,
    identity: exchange.request.auth?.identity ?? null,
    durationMs: exchange.durationMs,
    requestSize: bodySize(exchange.request.body),
    responseSize: bodySize(body),
    resultCount: envelope ? resultCount(envelope.Result) : null,
    relsTypes: envelope ? Object.keys(envelope.Rels) : [],
    contentType: body && body.kind !== 'empty' ? body.contentType : response ? (headerValue(response.headers, 'content-type') ?? null) : null,
  }
}
