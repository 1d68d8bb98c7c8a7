/** The JSON API over the sessions directory: sessions, pages of exchange rows, one exchange, raw bodies. */
import type { FastifyInstance } from 'fastify'
import type { Body, Exchange } from '../model/session.js'
import type { ExchangePage } from '../model/summary.js'
import { checkedSessionName } from '../store/paths.js'
import { tooDeepToWrite } from '../model/json-depth.js'
import { bodyBytes } from '../store/body-bytes.js'
import { downloadName, exchangeForView, isSafeInlineImage } from './bodies.js'
import { ViewerError } from './errors.js'
import { RAW_BODY_CSP } from './security.js'
import type { SessionCache } from './session-cache.js'
import { readImportWarnings } from './import-notes.js'

export const MAX_PAGE = 1000
export const DEFAULT_PAGE = 200

type NameParams = { name: string }
type SeqParams = { name: string; seq: number }
type RawParams = SeqParams & { side: 'request' | 'response' }

const nameParam = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } as const
const seqParams = {
  type: 'object',
  properties: { name: { type: 'string' }, seq: { type: 'integer', minimum: 1 } },
  required: ['name', 'seq'],
} as const

async function exchangeOf(cache: SessionCache, name: string, seq: number): Promise<Exchange> {
  const exchange = await cache.exchange(checkedSessionName(name), seq)
  if (!exchange) throw new ViewerError('EXCHANGE_NOT_FOUND', { session: name, seq, count: (await cache.get(name)).reader.count })
  return exchange
}

/**
 * The bytes of a stored body. A JSON body kept parsed only (no `raw` text) and nested deeper than JSON.stringify
 * reaches cannot be written back out: SESSION_INVALID naming the file and the exchange, not a stack overflow.
 */
async function rawBytes(cache: SessionCache, name: string, seq: number, side: string, body: Body): Promise<Buffer> {
  try {
    return bodyBytes(body)
  } catch (e) {
    if (!(e instanceof RangeError) || body.kind !== 'json') throw e
    throw tooDeepToWrite((await cache.get(name)).paths.file, seq, `${side}.body.json`)
  }
}

export function registerSessionRoutes(app: FastifyInstance, cache: SessionCache): void {
  app.get('/api/sessions', async () => cache.list())

  app.get<{ Params: NameParams }>('/api/sessions/:name', { schema: { params: nameParam } }, async (request) => {
    const name = checkedSessionName(request.params.name)
    // One look at the disk for both, so a recorder writing meanwhile cannot make them disagree. An unreadable
    // session throws its own error, with its own code (SESSION_INVALID, JOURNAL_INVALID).
    const { summary, head: session } = await cache.described(name)
    // What `reltape import` warned about, kept in a sidecar beside the session (viewer/import-notes.ts).
    const importWarnings = readImportWarnings(cache.store.dir, name, cache.store.paths(name).file)
    return {
      summary,
      session: { name: session.name, createdAt: session.createdAt, recording: session.recording, identities: session.identities },
      ...(importWarnings ? { importWarnings } : {}),
    }
  })

  app.get<{ Params: NameParams; Querystring: { offset: number; limit: number } }>(
    '/api/sessions/:name/exchanges',
    {
      schema: {
        params: nameParam,
        querystring: {
          type: 'object',
          properties: {
            offset: { type: 'integer', minimum: 0, default: 0 },
            limit: { type: 'integer', minimum: 1, maximum: MAX_PAGE, default: DEFAULT_PAGE },
          },
        },
      },
    },
    async (request): Promise<ExchangePage> => {
      const { offset, limit } = request.query
      const { total, items } = await cache.page(checkedSessionName(request.params.name), offset, limit)
      return { total, offset, items }
    },
  )

  app.get<{ Params: SeqParams }>('/api/sessions/:name/exchanges/:seq', { schema: { params: seqParams } }, async (request) =>
    exchangeForView(await exchangeOf(cache, request.params.name, request.params.seq)),
  )

  app.get<{ Params: RawParams; Querystring: { inline?: string } }>(
    '/api/sessions/:name/exchanges/:seq/raw/:side',
    {
      schema: {
        params: {
          type: 'object',
          properties: { ...seqParams.properties, side: { type: 'string', enum: ['request', 'response'] } },
          required: ['name', 'seq', 'side'],
        },
      },
    },
    async (request, reply) => {
      const { name, seq, side } = request.params
      const exchange = await exchangeOf(cache, name, seq)
      const body: Body | undefined = side === 'request' ? exchange.request.body : exchange.response?.body
      if (!body) throw new ViewerError('BODY_NOT_FOUND', { session: name, seq, why: exchange.error?.code ?? 'none recorded' })
      const contentType = body.kind === 'empty' || !body.contentType ? 'application/octet-stream' : body.contentType
      const inline = request.query.inline === '1' && isSafeInlineImage(contentType)
      reply.header('Content-Security-Policy', RAW_BODY_CSP)
      reply.header('X-Content-Type-Options', 'nosniff')
      reply.header('Cache-Control', 'no-store')
      reply.header('Content-Disposition', `${inline ? 'inline' : 'attachment'}; filename="${downloadName(name, seq, side, contentType)}"`)
      if (body.truncated) reply.header('X-Reltape-Truncated', `recorded ${body.kind === 'empty' ? 0 : body.size} bytes, kept fewer`)
      return reply.type(contentType).send(await rawBytes(cache, name, seq, side, body))
    },
  )
}
