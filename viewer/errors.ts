/**
 * The viewer API's errors: one registry of stable codes and statuses, answered as
 * `{ statusCode, code, error, message }` like fastify's own errors.
 */
import type { FastifyError, FastifyInstance } from 'fastify'
import { SessionFormatError } from '../model/session.js'
import { JournalError } from '../store/journal.js'
import { SessionNameError } from '../store/paths.js'
import { SessionNotFoundError } from '../store/store.js'

export const VIEWER_ERRORS = {
  SESSION_NOT_FOUND: 404,
  SESSION_INVALID: 422,
  SESSION_NAME_INVALID: 400,
  EXCHANGE_NOT_FOUND: 404,
  BODY_NOT_FOUND: 404,
  HOST_NOT_ALLOWED: 421,
  NOT_FOUND: 404,
  PORT_IN_USE: 500,
  CONFIG_INVALID: 500,
} as const

export type ViewerErrorCode = keyof typeof VIEWER_ERRORS

export class ViewerError extends Error {
  readonly statusCode: number
  constructor(
    readonly code: ViewerErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'ViewerError'
    this.statusCode = VIEWER_ERRORS[code]
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  404: 'Not Found',
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
}

export type ErrorBody = { statusCode: number; code: string; error: string; message: string }

export function errorBody(statusCode: number, code: string, message: string): ErrorBody {
  return { statusCode, code, error: REASONS[statusCode] ?? 'Error', message }
}

/** Maps an error thrown by a route (ours, the store's or fastify's) to its status and stable code. */
export function toErrorBody(e: unknown): ErrorBody {
  if (e instanceof ViewerError) return errorBody(e.statusCode, e.code, e.message)
  if (e instanceof SessionNotFoundError) return errorBody(404, 'SESSION_NOT_FOUND', e.message)
  if (e instanceof SessionNameError) return errorBody(400, 'SESSION_NAME_INVALID', e.message)
  if (e instanceof SessionFormatError || e instanceof JournalError) return errorBody(422, 'SESSION_INVALID', e.message)
  const fe = e as Partial<FastifyError>
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return errorBody(fe.statusCode, fe.code ?? 'BAD_REQUEST', fe.message ?? 'bad request')
  return errorBody(500, fe.code ?? 'INTERNAL', fe.message ?? String(e))
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((e, request, reply) => {
    const body = toErrorBody(e)
    if (body.statusCode >= 500) request.log.error(e)
    return reply.code(body.statusCode).type('application/json; charset=utf-8').send(body)
  })
  app.setNotFoundHandler((request, reply) => {
    const body = errorBody(404, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`)
    return reply.code(404).type('application/json; charset=utf-8').send(body)
  })
}
