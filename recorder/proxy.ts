/**
 * The mockttp server: forward proxy (HTTP, and HTTPS through CONNECT with certificates from reltape's CA)
 * or reverse proxy in front of one upstream. Capture sees each request as it starts (`route`) and, for the requests
 * it records, each response before mockttp sends it on (`beforeResponse`, which mockttp awaits): that is where an
 * exchange is journaled, so that no client is answered with an exchange that is not on disk. Requests it says are
 * not to be held (skipped traffic, event streams) pass through a second rule, streamed as they come.
 */
import { lookup } from 'node:dns/promises'
import { isIP, Server as NetServer, type Socket } from 'node:net'
import { getLocal, matchers, requestSteps, type Mockttp, type OngoingRequest, type RequestRuleData } from 'mockttp'
import { ListenError, listenError } from '../model/errors.js'
import type { CertificateAuthority } from '../store/ca.js'

export type ProxyOptions = {
  /** `forward` passes on whatever the client asks for; `reverse` sends everything to `upstream`. */
  mode: 'forward' | 'reverse'
  /** The upstream origin in reverse mode, e.g. `https://api.example.com` (no path). */
  upstream: string | null
  port: number
  host: string
  ca: CertificateAuthority
  /** Extra CAs (PEM text) trusted for upstream TLS, besides the system's. */
  upstreamCAs: string[]
  /** Turn upstream certificate verification off. */
  insecureUpstream: boolean
  /** mockttp's body limit for events: larger bodies still pass whole to the client, but arrive empty in events. */
  maxBody: number
  /**
   * Sees every request as it starts (before its body); true sends it through the rule whose responses are held for
   * `beforeResponse`, false through the one that streams them. Without it, one rule passes everything through.
   */
  route?: (request: OngoingRequest) => boolean
  /** Bind the host itself (a process-wide help during start: see startOnHost), rather than filter peers. */
  exactHost: boolean
  /** Called with each upstream response of a routed request, whole, before the client gets any of it. */
  beforeResponse?: (response: requestSteps.PassThroughResponse) => Promise<requestSteps.CallbackResponseResult | void>
}

/** The requests `route` holds for `beforeResponse`. It runs as a request starts, once per request. */
class RoutedMatcher extends matchers.CallbackMatcher {
  constructor(readonly route: (request: OngoingRequest) => boolean) {
    super(() => false)
  }

  override async matches(request: OngoingRequest): Promise<boolean> {
    return this.route(request)
  }

  override explain(): string {
    return 'that reltape records, with the response held until it is journaled'
  }
}

export { PortInUseError } from '../model/errors.js'

/** Errors of `listen` itself (as opposed to mockttp failing to set up): these become PORT_IN_USE or LISTEN_FAILED. */
const LISTEN_CODES = new Set(['EADDRINUSE', 'EADDRNOTAVAIL', 'EACCES', 'EPERM'])

/** True for an address on this machine's loopback. */
function isLoopback(address: string | undefined): boolean {
  const a = plainAddress(address)
  return a === '::1' || a === 'localhost' || /^127\./.test(a)
}

/**
 * mockttp 4 listens on every interface and takes no host. With `exactHost` (reltape's CLI: it owns its process),
 * a bare `listen(port)` call in this process is given the host while the proxy starts, so the proxy listens on
 * the host alone. Without it (code that imports reltape: no patched prototype), mockttp listens on every interface
 * and `admitOnlyHost` closes at once any connection the host would not have let in.
 */
async function startOnHost(server: Mockttp, port: number, host: string, exactHost: boolean): Promise<void> {
  if (!exactHost) {
    try {
      await server.start(port)
    } catch (e) {
      if (LISTEN_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw listenError(host, port, e as NodeJS.ErrnoException)
      throw e
    }
    return
  }
  const original = NetServer.prototype.listen
  const call = original as (this: NetServer, ...a: unknown[]) => NetServer
  const patched = function (this: NetServer, ...args: unknown[]) {
    return call.apply(this, args.length === 1 && typeof args[0] === 'number' ? [args[0], host] : args)
  }
  NetServer.prototype.listen = patched as typeof original
  try {
    await server.start(port)
  } catch (e) {
    if (LISTEN_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw listenError(host, port, e as NodeJS.ErrnoException)
    throw e
  } finally {
    if (NetServer.prototype.listen === (patched as typeof original)) NetServer.prototype.listen = original
  }
}

/**
 * Closes the client connection a request came on (by the client's port), for the upstream timeout: mockttp has
 * no upstream timeout and gives no handle on the connection, so the recorder tracks the sockets it accepts.
 */
export type ClientCloser = (remotePort: number | undefined) => boolean

/** mockttp keeps its listening server in a private field: the only way to its accepted sockets. */
function listeningServer(server: Mockttp): NetServer | undefined {
  return (server as unknown as { server?: NetServer }).server
}

/** An address as sockets give it: an IPv4 address mapped into IPv6 (`::ffff:10.0.0.5`) as IPv4. */
function plainAddress(address: string | undefined): string {
  return address?.startsWith('::ffff:') ? address.slice(7) : (address ?? '')
}

/**
 * For a proxy that listens on every interface though it was given one host (see startOnHost): closes at once, before
 * mockttp reads a byte, every connection the host would not have let in. For a loopback host, one from a peer that
 * is not on loopback; for another host, one that did not arrive on an address of that host. A wildcard host lets
 * everything in. Fails closed: without mockttp's listening server at hand, the proxy must not run open.
 */
async function admitOnlyHost(server: Mockttp, host: string, port: number): Promise<void> {
  if (host === '0.0.0.0' || host === '::') return
  const listener = listeningServer(server)
  if (!listener) throw new ListenError(host, port, 'this mockttp gives no access to its listening server, so connections the host does not admit could not be refused; start with bindHostExactly (the CLI does)')
  if (isLoopback(host)) {
    listener.prependListener('connection', (socket: Socket) => {
      if (!isLoopback(socket.remoteAddress)) socket.destroy()
    })
    return
  }
  const addresses = new Set((isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address)).map(plainAddress))
  listener.prependListener('connection', (socket: Socket) => {
    if (!addresses.has(plainAddress(socket.localAddress))) socket.destroy()
  })
}

export function trackClientSockets(server: Mockttp): ClientCloser {
  // Without mockttp's listening server, timeouts are recorded but not enforced.
  const listener = listeningServer(server)
  const sockets = new Map<number, Socket>()
  listener?.on('connection', (socket: Socket) => {
    if (socket.destroyed) return
    const port = socket.remotePort
    if (port === undefined) return
    sockets.set(port, socket)
    socket.once('close', () => {
      if (sockets.get(port) === socket) sockets.delete(port)
    })
  })
  return (remotePort) => {
    const socket = remotePort === undefined ? undefined : sockets.get(remotePort)
    if (!socket) return false
    socket.destroy()
    return true
  }
}

/**
 * What mockttp's loop check is shown of a passthrough step's connections to upstreams. The step keeps them (its
 * `outgoingSockets`, whose own record this replaces: mockttp copies a step definition's fields onto the step it runs)
 * and refuses as a loop, with a 500 "Passthrough loop detected" and without passing the request on, a request whose
 * client has the address and port of one of them. But Linux gives sockets that connect to different destinations the
 * same source port: on loopback, a client of the recorder can have the port of the recorder's own connection to the
 * upstream. A loop is the recorder connected to itself, so the check sees only connections to the recorder's port.
 * It reads them by iterating (`[...outgoingSockets]`); the step adds, finds and removes them as in any Set.
 */
class UpstreamSockets extends Set<Socket> {
  constructor(readonly ownPort: number) {
    super()
  }

  override *[Symbol.iterator](): SetIterator<Socket> {
    for (const socket of this.values()) if (socket.remotePort === this.ownPort) yield socket
  }
}

/** A passthrough step whose loop check sees only the recorder's connections to itself (see UpstreamSockets). */
function passThroughStep(options: requestSteps.PassThroughStepOptions, ownPort: number): requestSteps.PassThroughStep {
  return Object.assign(new requestSteps.PassThroughStep(options), { outgoingSockets: new UpstreamSockets(ownPort) })
}

export async function startProxy(o: ProxyOptions): Promise<Mockttp> {
  const server = getLocal({
    https: { cert: o.ca.cert, key: o.ca.key },
    recordTraffic: false,
    maxBodySize: o.maxBody,
    // HTTP/1.1 towards clients: what the API's clients use, and headers keep their wire case.
    http2: false,
    suggestChanges: false,
  })
  const passThrough = {
    ...(o.insecureUpstream ? { ignoreHostHttpsErrors: true } : {}),
    ...(o.upstreamCAs.length ? { additionalTrustedCAs: o.upstreamCAs.map((cert) => ({ cert })) } : {}),
  }
  await startOnHost(server, o.port, o.host, o.exactHost)
  try {
    if (!o.exactHost) await admitOnlyHost(server, o.host, server.port)
    const reverse = o.mode === 'reverse' && o.upstream ? new URL(o.upstream) : null
    // Rules built by hand: the builder's own callback matcher waits for the whole body, and its steps would keep
    // mockttp's loop check as it is (see UpstreamSockets). Reverse mode is what thenForwardTo does, on these steps.
    const forward = reverse ? { transformRequest: { setProtocol: reverse.protocol === 'https:' ? ('https' as const) : ('http' as const), replaceHost: { targetHost: reverse.host } } } : {}
    const streamed: RequestRuleData = { priority: 1, matchers: [new matchers.WildcardMatcher()], steps: [passThroughStep({ ...passThrough, ...forward }, server.port)] }
    if (o.route) {
      const held: RequestRuleData = {
        priority: 2,
        matchers: [new RoutedMatcher(o.route)],
        steps: [passThroughStep({ ...passThrough, ...forward, ...(o.beforeResponse ? { beforeResponse: o.beforeResponse } : {}) }, server.port)],
      }
      await server.addRequestRules(held, streamed)
    } else await server.addRequestRules(streamed)
    // WebSockets are passed on, not recorded: without a rule mockttp would refuse them and break the app.
    if (reverse) await server.forAnyWebSocket().thenForwardTo(o.upstream!, passThrough)
    else await server.forAnyWebSocket().thenPassThrough(passThrough)
  } catch (e) {
    await server.stop()
    throw e
  }
  return server
}
