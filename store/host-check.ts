/**
 * The Host rule the viewer and replay share against DNS rebinding: a page on an attacker's domain whose DNS now
 * points at 127.0.0.1 still sends its own name in Host, so only loopback names and the bound address are answered
 * (any IP literal when bound to a wildcard address: rebinding needs a domain name).
 */
import { isIP } from 'node:net'

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]'])

/** The host part of a Host header or an origin's authority, lowercased, brackets kept for IPv6 (`[::1]:4000` → `[::1]`). */
export function hostName(authority: string): string {
  const h = authority.trim().toLowerCase()
  if (h.startsWith('[')) {
    const end = h.indexOf(']')
    return end === -1 ? h : h.slice(0, end + 1)
  }
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

/** `localhost`, `127.0.0.1` or `[::1]` (a host name as `hostName` gives it). */
export function isLoopbackName(name: string): boolean {
  return LOOPBACK_NAMES.has(name)
}

/** True for a host name (as `hostName` gives it) that a server bound to `boundHost` answers: loopback, the bound address, or any IP literal on a wildcard. */
export function nameAllowed(name: string, boundHost: string): boolean {
  if (LOOPBACK_NAMES.has(name)) return true
  const bound = boundHost.toLowerCase()
  if (name === bound || name === `[${bound}]`) return true
  if (bound === '0.0.0.0' || bound === '::') return isIP(name.replace(/^\[|\]$/g, '')) !== 0
  return false
}

/** The Host header's name is one a server bound to `boundHost` answers; a missing Host is not. */
export function hostAllowed(header: string | undefined, boundHost: string): boolean {
  return header ? nameAllowed(hostName(header), boundHost) : false
}
