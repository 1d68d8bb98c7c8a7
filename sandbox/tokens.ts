/**
 * The sandbox's two fake identities. Fixed constants in the API's token shape (`<40 hex>.<32 hex>`),
 * so recordings made from the sandbox are comparable between runs. They open nothing but the sandbox.
 */
import { findToken } from '../model/auth.js'
import type { HeaderPair } from '../model/session.js'

export const SANDBOX_TOKENS = Object.freeze({
  customer: '5a9d0c6e1f2b3a4c5d6e7f8091a2b3c4d5e6f708.0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f',
  operator: 'b7e1c2d3a4f5061728394a5b6c7d8e9fa0b1c2d3.f1e2d3c4b5a69788796a5b4c3d2e1f00',
})

export type SandboxRole = keyof typeof SANDBOX_TOKENS

/** Who is calling: the role of the token in the cookie or Authorization header, or null for none or an unknown one. */
export function roleOf(headers: readonly HeaderPair[]): SandboxRole | null {
  const found = findToken(headers)
  if (!found) return null
  if (found.token === SANDBOX_TOKENS.customer) return 'customer'
  if (found.token === SANDBOX_TOKENS.operator) return 'operator'
  return null
}

/** Node's rawHeaders (flat name, value, name, value…) as pairs. */
export function headerPairs(raw: readonly string[]): HeaderPair[] {
  const pairs: HeaderPair[] = []
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!])
  return pairs
}
