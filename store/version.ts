/** reltape's own version, read from its package.json (found from source and from dist alike). */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findPackageJson(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'package.json')
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'reltape') return candidate
    dir = dirname(dir)
  }
  throw new Error(`cannot find reltape's package.json above ${fileURLToPath(import.meta.url)}`)
}

export const version: string = (JSON.parse(readFileSync(findPackageJson(), 'utf8')) as { version: string }).version

/** The `recording.tool` value: `reltape/<version>`. */
export const toolName = `reltape/${version}`
