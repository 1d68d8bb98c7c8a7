/**
 * The viewer's entity indexes are held with the sessions they were made from: once the session cache lets a session
 * go (its bound on sessions and rows), nothing of it stays in memory for the entity pages, however many sessions'
 * entities were looked at.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { EntityCache } from '../viewer/entities.js'
import { SessionCache } from '../viewer/session-cache.js'
import { writeBigSession } from './helpers/viewer-big-session.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

async function collectGarbage(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setImmediate(r)) // a WeakRef's target is kept until the job that made it ends
    gc()
  }
}

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-entities-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('entity indexes in the viewer', () => {
  it('go with their session when the session cache lets it go, and come back when it is asked for again', async () => {
    for (const name of ['a', 'b', 'c']) await writeBigSession(dir, name, 50)
    const sessions = new SessionCache(dir, { maxSessions: 2 })
    const cache = new EntityCache(sessions, { rels: {}, entities: {} })
    const looked = async (name: string): Promise<WeakRef<object>> => {
      const { reader, entities } = await cache.get(name)
      expect(entities.index.get('Clients#11')?.carried).toHaveLength(45) // every call but the failed ones
      return new WeakRef(reader)
    }
    const a = await looked('a')
    await looked('b')
    await looked('c') // the session cache keeps b and c
    await collectGarbage()
    expect(a.deref()).toBeUndefined()
    expect((await cache.get('a')).entities.index.get('Clients#11')?.carried).toHaveLength(45)
    sessions.close()
  })
})
