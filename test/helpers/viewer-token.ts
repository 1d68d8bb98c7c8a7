/** The access token the viewer API tests build their app with, and the header that brings it. */
import { newViewerToken } from '../../viewer/auth.js'

/** Fresh per test file, as a real run's is. */
export const TEST_TOKEN = newViewerToken()

/** `Authorization: Bearer …` with TEST_TOKEN, or with a running viewer's token. */
export function bearer(token: string | null = TEST_TOKEN): Record<string, string> {
  return token === null ? {} : { authorization: `Bearer ${token}` }
}
