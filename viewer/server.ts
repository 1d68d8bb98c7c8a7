/**
 * `reltape view`: a fastify server with the viewer's JSON API over a sessions directory, live
 * updates, and the built Lit UI. `buildViewerApp` makes the app (tests use `inject()`), `startViewer` listens.
 * The API and its event streams ask for the run's access token (viewer/auth.ts); the UI's files do not.
 */
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyInstance } from 'fastify'
import { listenError } from '../model/errors.js'
import type { EntityConfig } from '../model/entities.js'
import type { RelsConfig } from '../model/rels.js'
import { checkSessionName } from '../model/session.js'
import { SessionNameError } from '../store/paths.js'
import { loadRelsConfig } from './config.js'
import { checkedToken, newViewerToken, requireToken } from './auth.js'
import { installErrorHandlers } from './errors.js'
import { LiveHub } from './live.js'
import { EntityCache, registerEntityRoutes } from './entities.js'
import { registerSessionRoutes } from './routes-sessions.js'
import { registerCompareRoutes } from './routes-compare.js'
import { registerExportRoute } from './routes-export.js'
import { installSecurity } from './security.js'
import { SessionCache } from './session-cache.js'

export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_PORT = 4000

export type ViewerOptions = {
  /** The sessions directory. */
  dir: string
  /** The host the server binds; also the one Host name accepted besides loopback names. Default 127.0.0.1. */
  host?: string
  /** The built UI (index.html and assets). Default: `dist/ui`, found from this file's place. */
  uiDir?: string
  /**
   * The Rels override table, and optionally the `entities` table (API method → Result type). Default: read from
   * reltape.config.json (cwd, else the sessions dir's parent).
   */
  config?: RelsConfig & EntityConfig
  /**
   * Parse the sessions in the background once listening (most recently updated last, so they stay cached)
   * and again when they change, so the first page of a big session is served from memory.
   * Default false (tests); `startViewer` sets it.
   */
  warm?: boolean
  /** How often idle event streams get a comment line, so proxies and browsers keep them open. Default 15 s. */
  heartbeatMs?: number
  /**
   * Ask every API call and event stream for the access token (401 VIEWER_TOKEN_REQUIRED without it). `false` is the
   * old, open behaviour: anyone who can reach the port, any local user included, reads the recorded tokens.
   * @default true
   */
  auth?: boolean
  /**
   * The access token, when `auth` is on: at least 22 base64url characters (128 bits). Tests pass one to call the
   * API through `inject()`.
   * @default a fresh random one each time the app is built (`newViewerToken()`: 256 bits, base64url)
   */
  token?: string
}

/** `dist/viewer/server.js` → `dist/ui`; `viewer/server.ts` run from source → `dist/ui` too. */
export function defaultUiDir(): string {
  const candidates = [new URL('../ui/', import.meta.url), new URL('../dist/ui/', import.meta.url)].map((u) => fileURLToPath(u))
  return candidates.find((d) => existsSync(`${d}index.html`)) ?? (candidates[0] as string)
}

const UI_MISSING = 'UI not built: run npm run build (the viewer serves dist/ui, which `npm run build:ui` makes from viewer/ui)\n'

/** The app and the token its API asks for (null with `auth: false`). */
type ViewerApp = { app: FastifyInstance; token: string | null }

/**
 * The viewer as a fastify app, not listening. Its API asks for `options.token`; without one it makes its own, which
 * only `startViewer` hands out, so a test calling `inject()` passes a token (or `auth: false`).
 */
export async function buildViewerApp(options: ViewerOptions): Promise<FastifyInstance> {
  return (await buildViewer(options)).app
}

async function buildViewer(options: ViewerOptions): Promise<ViewerApp> {
  const host = options.host ?? DEFAULT_HOST
  const token = options.auth === false ? null : options.token !== undefined ? checkedToken(options.token) : newViewerToken()
  const loaded = options.config ? null : await loadRelsConfig(options.dir)
  const config = { rels: { ...(options.config?.rels ?? loaded?.rels) } }
  const entityConfig = { ...config, entities: { ...(options.config?.entities ?? loaded?.entities) } }
  const cache = new SessionCache(options.dir)
  const app = Fastify({ logger: false, forceCloseConnections: true })
  const live = new LiveHub(cache, (e) => app.log.error(e), options.heartbeatMs, options.warm)

  installSecurity(app, host)
  installErrorHandlers(app)

  // Every API route lives in this scope, so the token check covers all of them and nothing else.
  await app.register(async (api) => {
    if (token !== null) requireToken(api, token)
    registerSessionRoutes(api, cache)
    registerExportRoute(api, cache)
    registerCompareRoutes(api, cache)
    registerEntityRoutes(api, new EntityCache(cache, entityConfig))

    api.get('/api/config', async () => config)

    api.get<{ Params: { name: string }; Querystring: { afterSeq?: number } }>(
      '/api/sessions/:name/events',
      { schema: { querystring: { type: 'object', properties: { afterSeq: { type: 'integer', minimum: 0 } } } } },
      async (request, reply) => {
        const problem = checkSessionName(request.params.name)
        if (problem) throw new SessionNameError(problem)
        await live.subscribeSession(request.params.name, reply, request.query.afterSeq)
      },
    )
    api.get('/api/events', async (_request, reply) => live.subscribeSessions(reply))
  })

  const uiDir = options.uiDir ?? defaultUiDir()
  if (existsSync(`${uiDir.replace(/\/?$/, '/')}index.html`)) {
    await app.register(fastifyStatic, { root: uiDir, prefix: '/', index: ['index.html'], wildcard: true })
  } else {
    app.get('/', async (_request, reply) => reply.code(503).type('text/plain; charset=utf-8').send(UI_MISSING))
  }

  app.addHook('onReady', async () => {
    live.start()
    if (options.warm) setImmediate(() => void warmUp(cache))
  })
  app.addHook('preClose', async () => {
    live.close()
    cache.close()
  })
  return { app, token }
}

/** Reads every session once (the list needs their counts), then the most recent ones again so they are the cached ones. */
async function warmUp(cache: SessionCache): Promise<void> {
  try {
    const list = await cache.list()
    const recent = list
      .filter((s) => !s.invalid)
      .sort((a, b) => (a.updatedAt ?? '').localeCompare(b.updatedAt ?? ''))
      .slice(-2)
    for (const s of recent) await cache.get(s.name)
  } catch {
    // a directory that changes while it is read: the routes read it again on demand
  }
}

export type RunningViewer = {
  /** The link to open: `http://127.0.0.1:4000/?token=…` (no query with `auth: false`). Add a `#/sessions/…` deep link after it. */
  url: string
  /** The access token the API asks for (`Authorization: Bearer …`, or `?token=` on streams), null with `auth: false`. */
  token: string | null
  close(): Promise<void>
}

/** Builds the viewer and listens; a port in use is PORT_IN_USE naming it, another listen failure LISTEN_FAILED. */
export async function startViewer(options: ViewerOptions & { port?: number }): Promise<RunningViewer> {
  const host = options.host ?? DEFAULT_HOST
  const port = options.port ?? DEFAULT_PORT
  const { app, token } = await buildViewer({ warm: true, ...options, host })
  try {
    await app.listen({ port, host })
  } catch (e) {
    await app.close()
    throw listenError(host, port, e as NodeJS.ErrnoException)
  }
  const address = app.server.address()
  const actualPort = typeof address === 'object' && address ? address.port : port
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host
  const url = new URL(`http://${urlHost}:${actualPort}/`)
  if (token !== null) url.searchParams.set('token', token)
  return { url: url.href, token, close: () => app.close() }
}
