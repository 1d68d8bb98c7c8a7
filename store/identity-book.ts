/**
 * The identities of a session by token: the same token (as cookie or as `Authorization: Client`) is one identity,
 * named `identity-1`, `identity-2`, … in order of first sight. Kept by a token's hash, never the token.
 */
import { identityAlias } from '../model/auth.js'
import type { Identity } from '../model/session.js'
import { tokenHash } from './token-hash.js'

export class IdentityBook {
  readonly #byHash = new Map<string, Identity>()

  constructor(known: readonly Identity[] = []) {
    for (const id of known) this.#byHash.set(id.tokenHash, id)
  }

  /** The identity of a token, and whether it was made just now (the caller records a new one). */
  of(token: string, label: string | null = null): { identity: Identity; added: boolean } {
    const hash = tokenHash(token)
    const known = this.#byHash.get(hash)
    if (known) return { identity: known, added: false }
    const identity: Identity = { alias: identityAlias(this.#byHash.size + 1), tokenHash: hash, label }
    this.#byHash.set(hash, identity)
    return { identity, added: true }
  }
}
