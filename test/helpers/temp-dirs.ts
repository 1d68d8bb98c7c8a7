/** Temp dirs a test file makes as it needs them, each removed after the test that made it. */
import { rm } from 'node:fs/promises'
import { afterEach } from 'vitest'
import { tempDir } from './exchange-factory.js'

/** Call at a test file's top level: gives a maker of temp dirs named `prefix…`, removed after each test. */
export function tempDirsPerTest(prefix: string): () => Promise<string> {
  const made: string[] = []
  afterEach(async () => {
    for (const d of made.splice(0)) await rm(d, { recursive: true, force: true })
  })
  return async () => {
    const d = await tempDir(prefix)
    made.push(d)
    return d
  }
}
