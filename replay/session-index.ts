/**
 * A session indexed for replay, once, at load: each exchange's key, the queues of exchanges sharing a
 * key (in recorded order), the recorded preflights and CORS headers per path, and every response
 * prepared to serve.
 */
import { keyOf, type FieldPath, type RequestShape } from '../model/match.js'
import type { Exchange, Session } from '../model/session.js'
import type { ResolvedRules } from './options.js'
import { cleanHeaders, prepareResponse, type OutgoingHeaders, type PreparedResponse } from './prepared-response.js'
import { recordedShape } from './request-shape.js'

/** One recorded exchange, keyed. Its response is prepared on first use and kept: loading stays quick on big sessions. */
export class Recording {
  #response: PreparedResponse | null = null

  constructor(
    readonly seq: number,
    readonly exchange: Exchange,
    readonly shape: RequestShape,
    readonly key: string,
    private readonly requestJson: unknown,
    private readonly echoPaths: readonly FieldPath[],
  ) {}

  get response(): PreparedResponse {
    return (this.#response ??= prepareResponse(this.exchange, this.requestJson, this.echoPaths))
  }
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
    const recording = new Recording(exchange.seq, exchange, shape, key, json, rules.echoPaths)
    index.recordings.push(recording)
    push(index.queues, key, recording)
    push(index.byPath, shape.path, recording)
    if (shape.method === 'OPTIONS') push(index.preflights, shape.path, recording)
    index.largestRequest = Math.max(index.largestRequest, exchange.request.body.kind === 'empty' ? 0 : exchange.request.body.size)
    if (exchange.response && !index.corsByPath.has(shape.path) && exchange.response.headers.some(([n]) => /^access-control-/i.test(n))) {
      const cors = corsHeaders(cleanHeaders(exchange.response.headers))
      if (cors) index.corsByPath.set(shape.path, cors)
    }
    if (exchange.response?.body.truncated || exchange.request.body.truncated)
      index.warnings.push(`exchange #${exchange.seq} (${shape.method} ${shape.path}) has a body cut by the recorder: it is served as far as it was recorded`)
  }
  return index
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}
