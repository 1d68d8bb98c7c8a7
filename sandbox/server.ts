/**
 * The sandbox: a local HTTPS stand-in for the API (certificate from reltape's CA, for `localhost` and
 * 127.0.0.1), plus a plain-HTTP page on another port that calls it cross-origin the way a browser app does.
 * `buildSandboxApp` makes the fastify app without listening, so tests can `inject()`; `startSandbox` runs both.
 */
import type { FastifyInstance } from 'fastify'
import { listenError, PortInUseError } from '../model/errors.js'
import { issueServerCertificate, loadOrCreateCA } from '../store/ca.js'
import { reltapeHome } from '../store/paths.js'
import { buildSandboxApp } from './app.js'
import { buildAppPageServer } from './app-page.js'

export { SANDBOX_TOKENS } from './tokens.js'
export { buildSandboxApp, API_PREFIX, BODY_LIMIT, type SandboxAppOptions } from './app.js'
export { buildAppPageServer } from './app-page.js'

export type SandboxOptions = {
  /** Port of the HTTPS API; default 0 (any free port). */
  port?: number
  /** Address both servers bind; default '127.0.0.1'. */
  host?: string
  /** reltape's home, where the CA lives; default RELTAPE_HOME, else ~/.reltape. */
  home?: string
  /** Receives one line per API call; default: silent. */
  log?: (line: string) => void
  /**
   * Serve drifted data: the customer renamed and their ticket closed (SANDBOX_DRIFT), with the same tokens and every
   * other answer the same, so that a session recorded from a plain sandbox drifts in exactly those places.
   * @default false
   */
  drift?: boolean
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

/** Thrown by startSandbox when its port is taken: the one PORT_IN_USE error, under the name it had here. */
export class SandboxPortInUseError extends PortInUseError {
  constructor(host: string, port: number) {
    super(host, port)
    this.name = 'SandboxPortInUseError'
  }
}

/** Starts the HTTPS API and the app page; both bind `host` (default 127.0.0.1). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1'
  const requestedPort = options.port ?? 0
  const ca = await loadOrCreateCA(options.home ?? reltapeHome())
  const tls = await issueServerCertificate(ca, ['localhost', '127.0.0.1'])
  // Serve the chain (leaf, then CA): Chromium's --ignore-certificate-errors-spki-list only matches keys the server presents.
  const https = { key: tls.key, cert: tls.cert.trimEnd() + '\n' + ca.cert }
  const api = buildSandboxApp({ https, drift: options.drift ?? false, ...(options.log ? { log: options.log } : {}) })
  try {
    await api.listen({ port: requestedPort, host })
  } catch (e) {
    await api.close()
    const cause = e as NodeJS.ErrnoException
    throw cause.code === 'EADDRINUSE' ? new SandboxPortInUseError(host, requestedPort) : listenError(host, requestedPort, cause)
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
