/**
 * One row of the viewer's exchange list: what the list needs, without bodies.
 * Built by the viewer's server from an Exchange; the UI receives it as JSON.
 */
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

export type ExchangePage = { total: number; offset: number; items: ExchangeSummary[] }

/** The name of an exchange's envelope error, for lists: `Code`, else `Message`, else the JSON text. */
export function errorCodeOf(error: unknown): string | null {
  if (error === null || error === undefined) return null
  if (typeof error === 'string') return error
  if (typeof error === 'object') {
    const e = error as Record<string, unknown>
    for (const k of ['Code', 'code', 'Message', 'message']) if (typeof e[k] === 'string' || typeof e[k] === 'number') return String(e[k])
  }
  return JSON.stringify(error).slice(0, 80)
}

export type { Exchange }
