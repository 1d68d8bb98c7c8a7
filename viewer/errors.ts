/**
 * The viewer API's errors, answered as `{ statusCode, code, error, message }` like fastify's own. Codes, messages
 * and statuses come from the registry (model/errors.ts); a store error keeps its own code (a bad journal is
 * JOURNAL_INVALID here too).
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import { ERRORS, errorInfo, errorMessage, reasonPhrase, ReltapeError, type ErrorParams } from '../model/errors.js'

/** The registry codes the viewer itself raises (the store's errors bring their own). */
export type ViewerErrorCode =
  | 'EXCHANGE_NOT_FOUND'
  | 'BODY_NOT_FOUND'
  | 'ENTITY_NOT_FOUND'
  | 'HOST_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'CONFIG_INVALID'
  | 'VIEWER_TOKEN_REQUIRED'

export class ViewerError<C extends ViewerErrorCode = ViewerErrorCode> extends ReltapeError<C> {
  /** The HTTP status, under fastify's name for it. */
  readonly statusCode: number
  constructor(code: C, params: ErrorParams<C>) {
    super(code, params)
    this.name = 'ViewerError'
    this.statusCode = this.status
  }
}

export type ErrorBody = { statusCode: number; code: string; error: string; message: string }

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: reasonPhrase(statusCode), message }
}

/** Maps an error thrown by a route (ours, the store's or fastify's) to its status and stable code. */
export function toErrorBody(e: unknown): ErrorBody {
  const { code, status } = errorInfo(e)
  const fe = e as Partial<FastifyError>
  if (code) return errorBody(status, code, fe.message ?? code)
  // fastify's own client errors (a bad parameter, a body too large) keep their status and FST_ code.
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return errorBody(fe.statusCode, fe.code ?? 'BAD_REQUEST', fe.message ?? 'bad request')
  return errorBody(status, fe.code ?? 'INTERNAL', fe.message ?? String(e))
}

/** The answer for a registry code raised outside a route's throw (the Host guard, the token check, the not-found handler). */
export function registryBody<C extends ViewerErrorCode>(code: C, params: ErrorParams<C>): ErrorBody {
  return errorBody(ERRORS[code].status, code, errorMessage(code, params))
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((e, request, reply) => {
    const body = toErrorBody(e)
    if (body.statusCode >= 500) request.log.error(e)
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    const body = registryBody('NOT_FOUND', { method: request.method, path: request.url.split('?')[0] ?? '' })
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
}
