/**
 * The sandbox: a local HTTPS stand-in for the API (certificate from reltape's CA, for `localhost` and
 * 127.0.0.1), plus a plain-HTTP page on another port that calls it cross-origin the way a browser app does.
 * `buildSandboxApp` makes the fastify app without listening, so tests can `inject()`; `startSandbox` runs both.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { issueServerCertificate, loadOrCreateCA } from '../store/ca.js'
import { reltapeHome } from '../store/paths.js'
import { appPageHtml } from './app-page.js'
import { corsHeaders, fail, sendEnvelope } from './http.js'
import { ANSWERED, handlers } from './routes.js'
import { SandboxState } from './state.js'
import { headerPairs, roleOf, SANDBOX_TOKENS } from './tokens.js'

export { SANDBOX_TOKENS } from './tokens.js'

export const API_PREFIX = '/public/api/v1/'
/** Large enough for a 20 MB upload with room to spare. */
export const BODY_LIMIT = 64 * 1024 * 1024

export type SandboxOptions = {
  /** Port of the HTTPS API; default 0 (any free port). */
  port?: number
  /** Address both servers bind; default '127.0.0.1'. */
  host?: string
  /** reltape's home, where the CA lives; default RELTAPE_HOME, else ~/.reltape. */
  home?: string
  /** Receives one line per API call; default: silent. */
  log?: (line: string) => void
}

export type Sandbox = {
  /** The API base, `https://localhost:PORT` (a DNS name: mockttp's leaf certificates carry names only). */
  url: string
  port: number
  /** The web page, `http://localhost:APPPORT/`: another origin that calls the API with fetch. */
  appUrl: string
  /** The CA certificate a client must trust to reach `url`. */
  caCertPath: string
  close(): Promise<void>
}

export type SandboxAppOptions = {
  /** The world the app serves; default a fresh one. */
  state?: SandboxState
  /** TLS key and certificate; without them the app speaks plain HTTP (enough for `inject()`). */
  https?: { key: string; cert: string }
  log?: (line: string) => void
}

/** Thrown by startSandbox when its port is taken. */
export class SandboxPortInUseError extends Error {
  readonly code = 'PORT_IN_USE'
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use; pick another with --port (0 picks a free one)`)
    this.name = 'SandboxPortInUseError'
  }
}

/** Builds the API app (not listening). */
export function buildSandboxApp(options: SandboxAppOptions = {}): FastifyInstance {
  const state = options.state ?? new SandboxState()
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
    return reply.code(204).headers({ ...corsHeaders(request), 'Access-Control-Max-Age': '600', Vary: 'Origin' }).send()
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

/** The JSON object in a body; `{}` for an empty or non-JSON-typed body (multipart), 'invalid' when it claims JSON and is not. */
function parseJsonObject(request: FastifyRequest, raw: Buffer): Record<string, unknown> | 'invalid' {
  const type = request.headers['content-type'] ?? ''
  if (raw.length === 0 || !/json/i.test(type)) return {}
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'))
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {}
  } catch {
    return 'invalid'
  }
}

/** Builds the plain-HTTP app page server. */
export function buildAppPageServer(apiUrl: string): FastifyInstance {
  const app = Fastify({ logger: false })
  const html = appPageHtml(apiUrl, SANDBOX_TOKENS.customer)
  app.get('/', async (_request, reply: FastifyReply) =>
    reply.headers({ 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).send(html),
  )
  app.get('/favicon.ico', async (_request, reply) => reply.code(204).send())
  return app
}

/** Starts the HTTPS API and the app page; both bind `host` (default 127.0.0.1). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1'
  const requestedPort = options.port ?? 0
  const ca = await loadOrCreateCA(options.home ?? reltapeHome())
  const tls = await issueServerCertificate(ca, ['localhost', '127.0.0.1'])
  // Serve the chain (leaf, then CA): Chromium's --ignore-certificate-errors-spki-list only matches keys the server presents.
  const https = { key: tls.key, cert: tls.cert.trimEnd() + '\n' + ca.cert }
  const api = buildSandboxApp({ https, ...(options.log ? { log: options.log } : {}) })
  try {
    await api.listen({ port: requestedPort, host })
  } catch (e) {
    await api.close()
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new SandboxPortInUseError(host, requestedPort)
    throw e
  }
  const port = portOf(api)
  const url = `https://localhost:${port}`
  const page = buildAppPageServer(url)
  try {
    await page.listen({ port: 0, host })
  } catch (e) {
    await api.close()
    throw e
  }
  const appUrl = `http://localhost:${portOf(page)}/`
  let closing: Promise<void> | undefined
  return {
    url,
    port,
    appUrl,
    caCertPath: ca.certPath,
    close() {
      closing ??= Promise.all([api.close(), page.close()]).then(() => undefined)
      return closing
    },
  }
}

function portOf(app: FastifyInstance): number {
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('the sandbox server has no TCP address')
  return address.port
}
