/**
 * Trusting an extra CA upstream, cheaply: opt-in (`reuseTlsContexts`), because it wraps a Node built-in for the
 * whole process while a recorder runs; reltape's CLI, which owns its process, turns it on. mockttp passes
 * `ca: [...tls.rootCertificates, ...extra]` to every upstream request. That costs twice: Node builds a fresh
 * certificate store from those ~150 PEMs for each new TLS connection, and `https.Agent#getName` turns the whole
 * list into a string (~220 KB) for every request. While it is on, a context made from exactly that list (and the
 * same TLS settings) is built once and reused, and the list (mockttp keeps one array per rule) is given a short
 * `toString`. Certificate verification is unchanged. The figures are in bench/results.
 */
import { createHash } from 'node:crypto'
import tls from 'node:tls'

type ContextOptions = tls.SecureContextOptions & { allowPartialTrustChain?: boolean }

/** The option fields that shape a client context; anything else (a client certificate) skips the cache. */
const KEY_FIELDS = ['ciphers', 'sigalgs', 'ecdhCurve', 'minVersion', 'maxVersion', 'secureOptions', 'honorCipherOrder', 'allowPartialTrustChain', 'secureProtocol'] as const
const UNCACHEABLE = ['pfx', 'cert', 'key', 'passphrase', 'crl', 'privateKeyEngine', 'privateKeyIdentifier'] as const

let installs = 0
let original: typeof tls.createSecureContext | null = null
const trusted = new Set<string>()
const cache = new Map<string, tls.SecureContext>()

function isOurList(ca: unknown): boolean {
  if (!Array.isArray(ca) || ca.length <= tls.rootCertificates.length) return false
  const last = ca[ca.length - 1]
  return typeof last === 'string' && trusted.has(last) && ca[0] === tls.rootCertificates[0]
}

function cachedCreate(this: unknown, options?: ContextOptions): tls.SecureContext {
  const create = original!
  if (!options || !isOurList(options.ca) || UNCACHEABLE.some((f) => options[f as keyof ContextOptions] !== undefined)) return create(options)
  const ca = options.ca as string[]
  const extra = ca.slice(tls.rootCertificates.length)
  if (!Object.prototype.hasOwnProperty.call(ca, 'toString')) {
    // The agent's connection-pool key: still distinct per trust list, no longer 220 KB long.
    const short = `reltape-trust:${ca.length}:${createHash('sha256').update(extra.join('\n')).digest('base64url').slice(0, 22)}`
    Object.defineProperty(ca, 'toString', { value: () => short, enumerable: false })
  }
  const key = JSON.stringify([ca.length, extra, KEY_FIELDS.map((f) => options[f as keyof ContextOptions] ?? null)])
  let context = cache.get(key)
  if (!context) {
    context = create(options)
    if (cache.size > 64) cache.clear()
    cache.set(key, context)
  }
  return context
}

/** Starts reusing contexts for lists ending in one of `pems`; returns the function that stops it (counted). */
export function reuseTrustContexts(pems: string[]): () => void {
  for (const p of pems) trusted.add(p)
  if (installs++ === 0) {
    original = tls.createSecureContext
    tls.createSecureContext = cachedCreate as typeof tls.createSecureContext
  }
  let done = false
  return () => {
    if (done) return
    done = true
    if (--installs === 0 && original) {
      tls.createSecureContext = original
      original = null
      cache.clear()
      trusted.clear()
    }
  }
}
