/** Short, stable hash of a token: tells identities apart without storing the token. */
import { createHash } from 'node:crypto'

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12)
}
