/**
 * `GET /api/compare?a=SESSION[#SEQ]&b=SESSION[#SEQ]`: two sessions (or two exchanges) compared call by call, as
 * `reltape diff --json` answers (store/session-diff.ts's SessionDiff). The fields left out are the default ones
 * (`LocalId`), as for replay. Behind the token like every API route.
 */
import type { FastifyInstance } from 'fastify'
import { parseFieldPath } from '../model/match.js'
import { checkedSessionName } from '../store/paths.js'
import { DEFAULT_KEY_FIELDS } from '../store/request-key.js'
import { diffOne, diffSessions, type SessionDiff } from '../store/session-diff.js'
import { ViewerError } from './errors.js'
import type { SessionCache } from './session-cache.js'

type Ref = { session: string; seq: number | null }

/** `SESSION#SEQ` names one exchange; anything else a whole session. The name is checked before the disk is touched. */
export function parseCompareRef(ref: string): Ref {
  const m = /^(.*)#(\d+)$/.exec(ref)
  const out = m ? { session: m[1]!, seq: Number(m[2]) } : { session: ref, seq: null }
  checkedSessionName(out.session)
  return out
}

function badRequest(message: string): Error {
  return Object.assign(new Error(message), { statusCode: 400, code: 'FST_ERR_VALIDATION' })
}

const IGNORE = Object.freeze(DEFAULT_KEY_FIELDS.map((p) => parseFieldPath(p)))

const query = {
  type: 'object',
  properties: { a: { type: 'string', minLength: 1, maxLength: 300 }, b: { type: 'string', minLength: 1, maxLength: 300 } },
  required: ['a', 'b'],
} as const

export function registerCompareRoutes(app: FastifyInstance, cache: SessionCache): void {
  app.get<{ Querystring: { a: string; b: string } }>('/api/compare', { schema: { querystring: query } }, async (request): Promise<SessionDiff> => {
    const refA = parseCompareRef(request.query.a)
    const refB = parseCompareRef(request.query.b)
    if ((refA.seq === null) !== (refB.seq === null)) throw badRequest('compare a session with a session (a=A&b=B), or an exchange with an exchange (a=A#SEQ&b=B#SEQ), not one of each')
    const [a, b] = [(await cache.get(refA.session)).reader, (await cache.get(refB.session)).reader]
    if (refA.seq === null || refB.seq === null) return diffSessions(a, b, IGNORE)
    for (const [ref, reader] of [[refA, a], [refB, b]] as const)
      if (!reader.row(ref.seq!)) throw new ViewerError('EXCHANGE_NOT_FOUND', { session: ref.session, seq: ref.seq!, count: reader.count })
    const row = a.row(refA.seq)!.summary
    return diffOne(`${row.method.toUpperCase()} ${row.path.split('?')[0]}`, await a.exchange(refA.seq), await b.exchange(refB.seq), IGNORE)
  })
}
