/**
 * A session indexed for replay, once, at load: each exchange's key, the queues of exchanges sharing a
 * key (in recorded order), the recorded preflights and CORS headers per path, and every response
 * prepared to serve.
 */
import { keyOf, type RequestShape } from '../model/match.js'
import type { Exchange, Session } from '../model/session.js'
import type { ResolvedRules } from './options.js'
import { cleanHeaders, prepareResponse, type OutgoingHeaders, type PreparedResponse } from './prepared-response.js'
import { recordedShape } from './request-shape.js'

export type Recording = {
  seq: number
  exchange: Exchange
  shape: RequestShape
  key: string
  response: PreparedResponse
}

export type SessionIndex = {
  session: Session
  recordings: Recording[]
  /** Key → recordings with that key, in recorded order. */
  queues: Map<string, Recording[]>
  /** Path → recorded OPTIONS exchanges for it. */
  preflights: Map<string, Recording[]>
  /** Path → the recorded `access-control-*` headers of its responses. */
  corsByPath: Map<string, OutgoingHeaders>
  /** Path → recordings on it (to find the nearest recording on a miss). */
  byPath: Map<string, Recording[]>
  /** Exchanges not served: the client aborted them, so no answer was ever seen. */
  skipped: number[]
  /** The largest recorded request body, in bytes. */
  largestRequest: number
  /** Warnings found at load (truncated bodies). */
  warnings: string[]
}

function corsHeaders(headers: OutgoingHeaders): OutgoingHeaders | null {
  let out: OutgoingHeaders | null = null
  for (const [k, v] of Object.entries(headers)) if (k.startsWith('access-control-')) (out ??= {})[k] = v
  return out
}

export async function indexSession(session: Session, rules: ResolvedRules): Promise<SessionIndex> {
  const index: SessionIndex = {
    session,
    recordings: [],
    queues: new Map(),
    preflights: new Map(),
    corsByPath: new Map(),
    byPath: new Map(),
    skipped: [],
    largestRequest: 0,
    warnings: [],
  }
  for (const exchange of session.exchanges) {
    if (!exchange.response && exchange.error?.code === 'CLIENT_ABORTED') {
      index.skipped.push(exchange.seq)
      continue
    }
    const { shape, json } = await recordedShape(exchange.request)
    const key = keyOf(shape, rules.match)
    const response = prepareResponse(exchange, json, rules.echoPaths)
    const recording: Recording = { seq: exchange.seq, exchange, shape, key, response }
    index.recordings.push(recording)
    push(index.queues, key, recording)
    push(index.byPath, shape.path, recording)
    if (shape.method === 'OPTIONS') push(index.preflights, shape.path, recording)
    index.largestRequest = Math.max(index.largestRequest, exchange.request.body.kind === 'empty' ? 0 : exchange.request.body.size)
    if (exchange.response) {
      const cors = corsHeaders(cleanHeaders(exchange.response.headers))
      if (cors && !index.corsByPath.has(shape.path)) index.corsByPath.set(shape.path, cors)
    }
    if (response.truncated || exchange.request.body.truncated)
      index.warnings.push(`exchange #${exchange.seq} (${shape.method} ${shape.path}) has a body cut by the recorder: it is served as far as it was recorded`)
  }
  return index
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
