/**
 * What keeps recorded answers away from web pages that should not read them. Replay runs on loopback beside a
 * browser, and every page open in that browser can send it requests: CORS headers go only to the origins the
 * session was recorded from, loopback pages and those given with `--allow-origin`, and a Host that is not loopback,
 * the bound address or a recorded API host is refused (a page on an attacker's domain rebound to 127.0.0.1 still
 * sends its own name), as the viewer does.
 */
import { hostName, isLoopbackName, nameAllowed } from '../store/host-check.js'
import type { ResolvedRules } from './options.js'
import type { SessionIndex } from './session-index.js'

/** Decisions cached per Host or Origin text, at most this many (then the cache starts over). */
const MAX_CACHED = 1000

/** A page served from this machine: `http(s)://localhost`, `127.0.0.1` or `[::1]`, any port. */
export function isLoopbackOrigin(origin: string): boolean {
  const m = /^https?:\/\/([^/?#]+)$/i.exec(origin)
  return m !== null && isLoopbackName(hostName(m[1]!))
}

function cached<V>(cache: Map<string, V>, key: string, compute: () => V): V {
  let v = cache.get(key)
  if (v === undefined) {
    if (cache.size >= MAX_CACHED) cache.clear()
    cache.set(key, (v = compute()))
  }
  return v
}

/**
 * The Host rule. A request with an absolute-form target (`POST http://api.example/… HTTP/1.1`) comes from a client
 * told to use replay as its HTTP proxy, which a page cannot make a browser do: its Host names the API, and it is
 * answered. Otherwise the Host must name loopback, the bound address (any IP literal when bound to a wildcard
 * address: rebinding needs a domain name) or a host the session recorded (a client pointed at replay through
 * /etc/hosts keeps the API's name). A request without a Host (HTTP/1.0) is answered: browsers always send one.
 */
export class HostGuard {
  readonly #bound: string
  readonly #recorded: ReadonlySet<string>
  readonly #decisions = new Map<string, boolean>()

  constructor(boundHost: string, index: SessionIndex) {
    this.#bound = boundHost.toLowerCase()
    this.#recorded = index.recordedHosts
  }

  allows(host: string | undefined, target: string): boolean {
    if (host === undefined || target.charCodeAt(0) !== 47 /* '/' */) return true
    return cached(this.#decisions, host, () => this.#allowsName(hostName(host)))
  }

  #allowsName(name: string): boolean {
    return this.#recorded.has(name) || nameAllowed(name, this.#bound)
  }
}

/**
 * The Origin rule: which pages get CORS headers. The recorded origins are looked up only when a page on some other,
 * non-loopback origin first calls (see SessionIndex.recordedOrigins): tests, curl and dev servers on localhost never
 * make replay read an exchange for it.
 */
export class OriginPolicy {
  readonly #index: SessionIndex
  readonly #any: boolean
  readonly #extra: ReadonlySet<string>
  readonly #decisions = new Map<string, boolean>()
  readonly #log: ((line: string) => void) | null
  /** Refused origins already named in the log: one line each, not one per request. */
  readonly #logged = new Set<string>()

  constructor(index: SessionIndex, rules: ResolvedRules) {
    this.#index = index
    this.#any = rules.allowOrigins.includes('*')
    this.#extra = new Set(rules.allowOrigins)
    this.#log = rules.log
  }

  /** True when a page on `origin` may read the answer (it gets CORS headers). */
  allows(origin: string): boolean {
    if (this.#any) return true
    return cached(this.#decisions, origin, () => {
      const normal = origin.toLowerCase()
      return this.#extra.has(normal) || isLoopbackOrigin(normal) || this.#index.recordedOrigins().has(normal)
    })
  }

  /** Says once per origin that its requests get no CORS headers, and how to allow it. */
  refused(origin: string, what: string): void {
    if (!this.#log || this.#logged.has(origin) || this.#logged.size >= MAX_CACHED) return
    this.#logged.add(origin)
    this.#log(
      `CORS refused origin ${JSON.stringify(origin)} (${what}): not an origin the session was recorded from, not loopback, not --allow-origin; ` +
        'answered without CORS headers, so that page cannot read it (this line is logged once per origin)',
    )
  }
}
