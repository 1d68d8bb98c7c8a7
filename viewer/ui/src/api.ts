/**
 * The viewer server's JSON API, as the UI uses it. Every failure becomes an `ApiError` with a stable `code`,
 * so that `<error-notifier>` can show what failed and why. Every call brings the run's access token (token.ts).
 */
import type { Change } from '../../../model/diff.js'
import type { Exchange } from '../../../model/session.js'
import type { ExchangePage, ExchangeSummary, SessionSummary } from '../../../model/summary.js'
import type { RelsConfig } from '../../../model/rels.js'
import type { EntityList, EntityTimeline } from '../../../model/entities.js'
import { authHeaders, TOKEN_REQUIRED, tokenRefused, withToken } from './token.js'

/** A session in the list; one that failed validation carries `invalid` and cannot be opened. */
export type SessionListItem = SessionSummary

export type SessionIdentity = { alias: string; tokenHash: string; label: string | null }

export type SessionDetail = {
  summary: SessionListItem
  session: {
    name: string
    createdAt: string
    recording: { tool: string; mode: string; upstream: string | null }
    identities: SessionIdentity[]
  }
}

/** An exchange body the server cut because it was too large to send whole. */
export type OmittedBody = { kind: 'text'; text: string; truncated: true; omitted: true; size: number; contentType: string }

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message)
    this.name = 'ApiError'
  }
}

const enc = encodeURIComponent

/**
 * URLs are relative to the page, so the UI works wherever the server mounts it. Those the browser fetches by itself
 * (raw bodies, event streams) carry the token in their query; fetches send it as a header.
 */
export const urls = {
  sessions: () => 'api/sessions',
  session: (name: string) => `api/sessions/${enc(name)}`,
  exchanges: (name: string, offset: number, limit: number) => `api/sessions/${enc(name)}/exchanges?offset=${offset}&limit=${limit}`,
  exchange: (name: string, seq: number) => `api/sessions/${enc(name)}/exchanges/${seq}`,
  raw: (name: string, seq: number, side: 'request' | 'response', inline = false) =>
    withToken(`api/sessions/${enc(name)}/exchanges/${seq}/raw/${side}${inline ? '?inline=1' : ''}`),
  sessionEvents: (name: string, afterSeq?: number) =>
    withToken(`api/sessions/${enc(name)}/events${afterSeq === undefined ? '' : `?afterSeq=${afterSeq}`}`),
  events: () => withToken('api/events'),
  config: () => 'api/config',
  entities: (name: string) => `api/sessions/${enc(name)}/entities`,
  entity: (name: string, type: string, id: string) => `api/sessions/${enc(name)}/entities/${enc(type)}/${enc(id)}`,
  compare: (a: string, b: string) => `api/compare?a=${enc(a)}&b=${enc(b)}`,
  find: (q: string, limit?: number) => `api/find?q=${enc(q)}${limit === undefined ? '' : `&limit=${limit}`}`,
}

/** The JSON of a GET that succeeded; a failure is an ApiError with the server's code. */
async function getJson<T>(url: string, signal?: AbortSignal): Promise<T> {
  return (await (await getOk(url, signal)).json()) as T
}

/** The response of a GET that succeeded; a failure is an ApiError with the server's code. */
async function getOk(url: string, signal?: AbortSignal): Promise<Response> {
  let res: Response
  try {
    res = await fetch(url, { signal: signal ?? null, headers: { accept: 'application/json', ...authHeaders() } })
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err
    throw new ApiError('VIEWER_UNREACHABLE', `cannot reach the viewer server (${url}): ${(err as Error).message}`)
  }
  if (!res.ok) {
    // The server answers errors as {code, message}; fall back to the status line.
    let code = `HTTP_${res.status}`
    let message = `${url}: ${res.status} ${res.statusText}`
    try {
      const body = (await res.json()) as { code?: unknown; message?: unknown }
      if (typeof body.code === 'string') code = body.code
      if (typeof body.message === 'string') message = `${url}: ${body.message}`
      // No token, or another run's: the whole app is locked, not just this call.
      if (code === TOKEN_REQUIRED) tokenRefused(typeof body.message === 'string' ? body.message : message)
    } catch {
      /* not JSON: keep the status line */
    }
    throw new ApiError(code, message, res.status)
  }
  return res
}

/** The first `limit` matches of a search over every session, and how many there are in all. */
async function findFirst(q: string, limit: number, signal?: AbortSignal): Promise<{ matches: FindMatch[]; total: number }> {
  const res = await getOk(urls.find(q, limit), signal)
  const matches = (await res.json()) as FindMatch[]
  const total = Number(res.headers.get('x-reltape-matches') ?? matches.length)
  return { matches, total: Number.isFinite(total) ? total : matches.length }
}

export const api = {
  sessions: (signal?: AbortSignal) => getJson<SessionListItem[]>(urls.sessions(), signal),
  session: (name: string, signal?: AbortSignal) => getJson<SessionDetail>(urls.session(name), signal),
  exchanges: (name: string, offset: number, limit: number, signal?: AbortSignal) => getJson<ExchangePage>(urls.exchanges(name, offset, limit), signal),
  exchange: (name: string, seq: number, signal?: AbortSignal) => getJson<Exchange>(urls.exchange(name, seq), signal),
  config: (signal?: AbortSignal) => getJson<RelsConfig>(urls.config(), signal),
  entities: (name: string, signal?: AbortSignal) => getJson<EntityList>(urls.entities(name), signal),
  entity: (name: string, type: string, id: string, signal?: AbortSignal) => getJson<EntityTimeline>(urls.entity(name, type, id), signal),
  compare: (a: string, b: string, signal?: AbortSignal) => getJson<CompareResult>(urls.compare(a, b), signal),
  find: findFirst,
}

/** One match of `GET /api/find` (what `reltape find --json` prints). */
export type FindMatch = { session: string; seq: number; where: string; entity?: string }

/** One change between two calls. */
export type CompareChange = Change
/** What `GET /api/compare` answers (store/session-diff.ts's SessionDiff): only calls that differ or have no partner. */
export type CompareResult = { equal: boolean; unchanged: number; calls: { key: string; a: number | null; b: number | null; changes: CompareChange[] }[] }

export type { Exchange, ExchangeSummary, EntityList, EntityTimeline }
