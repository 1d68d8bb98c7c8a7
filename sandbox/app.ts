/**
 * The sandbox API as a fastify app, built without listening so tests can `inject()` as well as use a real port.
 * Routing, auth and body parsing live here; the methods themselves are in routes.ts.
 */
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import { corsHeaders, fail, sendEnvelope } from './http.js'
import { ANSWERED, handlers } from './routes.js'
import { SandboxState } from './state.js'
import { headerPairs, roleOf } from './tokens.js'

export const API_PREFIX = '/public/api/v1/'
/** Large enough for a 20 MB upload with room to spare. */
export const BODY_LIMIT = 64 * 1024 * 1024

export type SandboxAppOptions = {
  /** The world the app serves; default a fresh one. */
  state?: SandboxState
  /** A fresh world with its data drifted (see SANDBOX_DRIFT); ignored when `state` is given. @default false */
  drift?: boolean
  /** TLS key and certificate; without them the app speaks plain HTTP (enough for `inject()`). */
  https?: { key: string; cert: string }
  log?: (line: string) => void
}

/** Builds the API app (not listening). */
export function buildSandboxApp(options: SandboxAppOptions = {}): FastifyInstance {
  const state = options.state ?? new SandboxState({ drift: options.drift ?? false })
  const log = options.log ?? (() => {})
  // An HTTPS fastify instance has other server generics than the default; callers only need the common surface.
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, ...(options.https ? { https: options.https } : {}) }) as unknown as FastifyInstance

  // Every body arrives as bytes: JSON is parsed by the handler so a bad body gets an envelope, not fastify's 400,
  // and multipart keeps its exact bytes for the upload parser.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_request, body, done) => done(null, body))

  // Preflights need no token: browsers never send credentials with them.
  app.options('/*', async (request, reply) => {
    log(`OPTIONS ${request.url} preflight from ${request.headers.origin ?? 'no origin'}`)
    // No Access-Control-Max-Age (as the real API): browsers then preflight again within seconds, so recordings show them.
    return reply.code(204).headers({ ...corsHeaders(request), Vary: 'Origin' }).send()
  })

  app.post(`${API_PREFIX}*`, async (request, reply) => {
    const method = (request.params as { '*': string })['*'].replace(/\/+$/, '')
    const handler = Object.hasOwn(handlers, method) ? handlers[method] : undefined
    const role = roleOf(headerPairs(request.raw.rawHeaders))
    const done = (outcome: string) => log(`POST ${API_PREFIX}${method} ${role ?? 'anonymous'} ${outcome}`)
    if (!handler) {
      done('404 MethodNotFound')
      return sendEnvelope(request, reply, fail('MethodNotFound', `no API method ${JSON.stringify(method)}`), 404)
    }
    if (!role) {
      done('Unauthorized')
      return sendEnvelope(request, reply, fail('Unauthorized', 'a known session token is required (cookie client-session or Authorization: Client)'))
    }
    const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0)
    const body = parseJsonObject(request, raw)
    if (body === 'invalid') {
      done('BadRequest')
      return sendEnvelope(request, reply, fail('BadRequest', 'the request body is not valid JSON'))
    }
    const result = await handler({ state, role, body, raw, request, reply })
    if (result !== ANSWERED) {
      done(result.OK ? 'OK' : `Error ${result.Error?.Code}`)
      return sendEnvelope(request, reply, result)
    }
    done(`${reply.statusCode} ${String(reply.getHeader('content-type') ?? '')}`)
    return reply
  })

  app.setNotFoundHandler((request, reply) => sendEnvelope(request, reply, fail('NotFound', `no route ${request.method} ${request.url}`), 404))
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500
    log(`${request.method} ${request.url} failed: ${error.message}`)
    return sendEnvelope(request, reply, fail(error.code ?? 'InternalError', error.message), status)
  })
  return app
}

/**
 * The JSON object in a body: `{}` for an empty body, a multipart one, or JSON that is not an object;
 * 'invalid' for a body that is not JSON while claiming to be (a body sent without a JSON type, as
 * `curl -d` does, is still read as JSON when it parses).
 */
function parseJsonObject(request: FastifyRequest, raw: Buffer): Record<string, unknown> | 'invalid' {
  const type = request.headers['content-type'] ?? ''
  if (raw.length === 0 || /^multipart\//i.test(type)) return {}
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  } catch {
    return /json/i.test(type) ? 'invalid' : {}
  }
}
