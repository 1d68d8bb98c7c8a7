/**
 * `GET /api/sessions/:name/export.har`: the session as HAR 1.2, written by store/har-export.ts straight into the
 * answer (one entry at a time, never the whole HAR in memory), served as a download. Tokens are written as
 * `<identity-N>` (`reltape export --redact`) unless the caller asks for them with `?reveal=1`, which the UI offers
 * only after a confirmation. Inside the API scope: the run's access token is asked for, as by every API route.
 */
import { PassThrough } from 'node:stream'
import type { FastifyInstance } from 'fastify'
import { exportHar } from '../store/har-export.js'
import { checkedSessionName } from '../store/paths.js'
import { RAW_BODY_CSP } from './security.js'
import type { SessionCache } from './session-cache.js'

/** A download name of safe characters only: `login-bug.har`, `login-bug.with-tokens.har`. */
export function harDownloadName(session: string, reveal: boolean): string {
  return `${session}${reveal ? '.with-tokens' : ''}.har`.replace(/[^A-Za-z0-9._-]/g, '_')
}

export function registerExportRoute(app: FastifyInstance, cache: SessionCache): void {
  app.get<{ Params: { name: string }; Querystring: { reveal?: string } }>(
    '/api/sessions/:name/export.har',
    {
      schema: {
        params: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] },
        querystring: { type: 'object', properties: { reveal: { type: 'string', enum: ['0', '1'] } } },
      },
    },
    async (request, reply) => {
      const name = checkedSessionName(request.params.name)
      const reveal = request.query.reveal === '1'
      // Opened (and its errors answered as JSON: SESSION_NOT_FOUND, SESSION_INVALID) before the first byte is sent.
      const { reader } = await cache.get(name)
      const out = new PassThrough()
      reply.header('Content-Security-Policy', RAW_BODY_CSP)
      reply.header('X-Content-Type-Options', 'nosniff')
      reply.header('Cache-Control', 'no-store')
      reply.header('Content-Disposition', `attachment; filename="${harDownloadName(name, reveal)}"`)
      reply.type('application/json; charset=utf-8')
      // A failure half-way cannot change the status any more: the stream is cut, so the download fails instead of
      // leaving a HAR that looks whole.
      let finished = false
      exportHar(reader, '-', { redact: !reveal, stdout: out }).then(
        () => {
          finished = true
          out.end()
        },
        (e: unknown) => {
          finished = true
          if (!out.destroyed) request.log.error(e)
          out.destroy(e as Error)
        },
      )
      // A download the browser gave up: the export waiting for 'drain' hears an error instead, and stops.
      out.on('error', () => {})
      out.on('close', () => {
        if (!finished) out.emit('error', new Error('the download was closed before the HAR was written'))
      })
      return reply.send(out)
    },
  )
}
