/**
 * How an upstream is given, shared by the recorder's reverse mode, replay's `record-missing` and `reltape verify`:
 * an origin, the CA files to trust, the time to wait. Apart from the upstream client, so that checking options
 * does not load undici.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The upstream's time to answer (headers, then between body chunks), as the recorder's default. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 300_000

/** A CA file that cannot be used: the caller names its own option. */
export class CaFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`)
    this.name = 'CaFileError'
  }
}

/** An upstream given as an origin: http or https, no path, query or credentials. */
export function upstreamOrigin(raw: unknown, fail: (problem: string) => Error): string {
  let u: URL
  try {
    u = new URL(String(raw))
  } catch {
    throw fail(`${JSON.stringify(raw)} is not a URL; give one such as https://api.example.com`)
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw fail(`must be an http or https URL, not ${u.protocol}`)
  if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) throw fail(`takes an origin without a path (${u.origin}); the request's path is kept`)
  return u.origin
}

/** Reads PEM CA files; throws CaFileError for one that cannot be read or holds no certificate. */
export async function readCaFiles(files: readonly string[]): Promise<string[]> {
  return Promise.all(
    files.map(async (file) => {
      let pem: string
      try {
        pem = await readFile(file, 'utf8')
      } catch (e) {
        throw new CaFileError(file, `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`)
      }
      if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new CaFileError(file, 'holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
      return pem
    }),
  )
}

/** reltape's own CA certificate in `home`, when there is one (never made here: trusting it is only a convenience). */
export async function ownCaPem(home: string): Promise<string | null> {
  const file = join(home, 'ca.pem')
  return existsSync(file) ? readFile(file, 'utf8') : null
}
