/**
 * Whether this process already trusts some CAs for outgoing TLS: Node adds the certificates of the file named by
 * `NODE_EXTRA_CA_CERTS` to its default trust when it starts. Upstream connections then verify against the
 * default store, and no per-connection trust list (mockttp's `additionalTrustedCAs`, slow) is needed.
 */
import { readFileSync } from 'node:fs'

/** The certificates of a PEM text, whitespace-normalised, for comparing. */
function certificates(pem: string): string[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => c.replace(/\s+/g, ''))
}

/** Node reads the variable once, at start: a value set later changes nothing, so neither does it here. */
const AT_START = process.env.NODE_EXTRA_CA_CERTS

/** True when every certificate in `pems` is in the file NODE_EXTRA_CA_CERTS named when this process started. */
export function trustedByProcess(pems: readonly string[], file: string | undefined = AT_START): boolean {
  if (!file || pems.length === 0) return false
  let known: Set<string>
  try {
    known = new Set(certificates(readFileSync(file, 'utf8')))
  } catch {
    return false
  }
  return pems.every((pem) => certificates(pem).every((c) => known.has(c)))
}
