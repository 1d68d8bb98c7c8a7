/** Shared set-up for the recorder tests: temp RELTAPE_HOME and sessions dir, the recorder, a client through it. */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer as createNetServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProxyAgent, request } from 'undici'
import { startRecorder, type Recorder, type RecorderOptions } from '../../recorder/index.js'
import type { Session } from '../../model/session.js'
import { issueServerCertificate, loadOrCreateCA } from '../../store/ca.js'
import { readSessionFiles } from '../../store/store.js'
import { sessionPaths } from '../../store/paths.js'

export type RecorderEnv = {
  home: string
  dir: string
  rec: Recorder
  ca: string
  proxy: ProxyAgent
  lines: string[]
  logs: string[]
  /** The session as a reader sees it (file plus journal). */
  session(): Promise<Session>
  close(): Promise<void>
}

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `reltape-${prefix}-`))
}

export async function startRecorderEnv(options: RecorderOptions = {}, home?: string): Promise<RecorderEnv> {
  const h = home ?? (await tempDir('rec-home'))
  const dir = await tempDir('rec-dir')
  const lines: string[] = []
  const logs: string[] = []
  const rec = await startRecorder({
    home: h,
    dir,
    port: 0,
    session: 'test',
    onExchange: (_e, line) => lines.push(line),
    log: (m) => logs.push(m),
    ...options,
  })
  const ca = await readFile(rec.ca.certPath, 'utf8')
  const proxy = new ProxyAgent({ uri: rec.url, requestTls: { ca } })
  return {
    home: h,
    dir,
    rec,
    ca,
    proxy,
    lines,
    logs,
    session: () => readSessionFiles(sessionPaths(dir, rec.sessionName)),
    async close() {
      await proxy.close()
      await rec.stop(0)
      await rm(dir, { recursive: true, force: true })
      if (!home) await rm(h, { recursive: true, force: true })
    },
  }
}

export type Raw = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A POST through the proxy with undici's request (no body decoding: the test sees the wire). */
export async function postVia(env: RecorderEnv, url: string, body: unknown, headers: Record<string, string> = {}): Promise<Raw> {
  const res = await request(url, {
    method: 'POST',
    dispatcher: env.proxy,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}

export type Upstream = { url: string; port: number; server: Server; close(): Promise<void> }

type Handler = (req: IncomingMessage, res: ServerResponse) => void

async function listen(server: Server, scheme: 'http' | 'https', host: string): Promise<Upstream> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    url: `${scheme}://${host}:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections()
        server.close(() => r())
      }),
  }
}

/** A plain HTTP upstream on loopback. */
export function startHttpUpstream(handler: Handler): Promise<Upstream> {
  return listen(createHttpServer(handler), 'http', '127.0.0.1')
}

/** An HTTPS upstream whose certificate comes from the CA in `home` (made there if needed). */
export async function startHttpsUpstream(home: string, handler: Handler): Promise<Upstream> {
  const ca = await loadOrCreateCA(home)
  const tls = await issueServerCertificate(ca, ['localhost'])
  return listen(createHttpsServer({ key: tls.key, cert: tls.cert }, handler) as unknown as Server, 'https', 'localhost')
}

/** A port that nothing listens on (taken, then released). */
export async function closedPort(): Promise<number> {
  const s = createNetServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/**
 * Handles a request once its body has arrived. A request cut off midway (a recorder killed while forwarding it) is
 * dropped: there is no one left to answer, and its rejection must not surface as an unhandled error.
 */
export function withBody(req: IncomingMessage, handle: (body: Buffer) => void): void {
  readBody(req)
    .then(handle)
    .catch(() => undefined)
}

/** Reads a request body. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of req) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

/** Polls until `check` is true (bounded), for events that come a tick after the client is answered. */
export { until } from './until.js'
