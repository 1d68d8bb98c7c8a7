/**
 * Entities of real recordings: the sandbox story recorded twice through the recorder, the second time after the
 * customer was renamed (the sandbox's drift), gives Clients#11 a timeline with the rename as a version; the viewer's
 * API serves it. And a 10,000-exchange session with 2,000 entities indexes, on disk and back.
 */
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ProxyAgent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { EntityList, EntityTimeline } from '../model/entities.js'
import { startRecorder } from '../recorder/index.js'
import { playStory, startSandbox, SANDBOX_DRIFT } from '../sandbox/index.js'
import { entitiesPath, loadEntityIndex } from '../store/entity-index.js'
import { sessionPaths } from '../store/paths.js'
import { SessionReader } from '../store/session-reader.js'
import { buildViewerApp } from '../viewer/server.js'
import { jsonResponse, makeExchange, tempDir } from './helpers/exchange-factory.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'

const config = { rels: { AvatarId: 'Files' }, entities: { 'chats/history': 'Messages', 'chats/channel/send/support': 'Messages' } }

describe('the sandbox story, recorded before and after the customer was renamed', { timeout: 120_000 }, () => {
  let home: string
  let dir: string

  beforeAll(async () => {
    home = await tempDir('reltape-ent-home-')
    dir = await tempDir('reltape-ent-dir-')
    const plain = await startSandbox({ port: 0, home })
    const drifted = await startSandbox({ port: 0, home, drift: true })
    const rec = await startRecorder({ home, dir, port: 0, session: 'story', log: () => {} })
    const dispatcher = new ProxyAgent({ uri: rec.url, requestTls: { ca: await readFile(rec.ca.certPath, 'utf8') } })
    try {
      await playStory({ apiUrl: plain.url, dispatcher })
      await playStory({ apiUrl: drifted.url, dispatcher })
    } finally {
      await dispatcher.close()
      await rec.stop(0)
      await plain.close()
      await drifted.close()
    }
  }, 120_000)

  afterAll(async () => {
    await rm(home, { recursive: true, force: true })
    await rm(dir, { recursive: true, force: true })
  })

  it('gives Clients#11 a version per name, the rename recorded as a change of Name', async () => {
    const reader = await SessionReader.open(sessionPaths(dir, 'story'))
    expect(reader.count).toBe(20)
    const { index } = await loadEntityIndex(reader, config)
    const client = index.get('Clients#11')!
    expect(client.versions.length).toBeGreaterThanOrEqual(2)
    const renamed = client.versions.filter((v) => v.changed.includes('Name'))
    expect(renamed).toHaveLength(1)
    expect(renamed[0]!.firstSeq).toBeGreaterThan(10) // in the second recording
    expect(client.label).toBe(`Client #11 · ${SANDBOX_DRIFT.after.Name}`)
    expect(client.carried.find((c) => c.where === 'Result')?.seq).toBe(5) // clients/get
    expect(client.referenced.some((r) => r.field === 'ClientId' && r.from?.startsWith('Messages#'))).toBe(true)
  })

  it("the viewer's API gives the timeline with the rename as old → new", async () => {
    const app = await buildViewerApp({ dir, token: TEST_TOKEN, config })
    try {
      const list = (await app.inject({ url: '/api/sessions/story/entities?type=Clients', headers: bearer() })).json<EntityList>()
      expect(list.items.map((e) => e.key)).toContain('Clients#11')
      expect(list.types).toContain('Messages')
      const res = await app.inject({ url: '/api/sessions/story/entities/Clients/11', headers: bearer() })
      expect(res.statusCode).toBe(200)
      const t = res.json<EntityTimeline>()
      const change = t.timeline.flatMap((v) => v.changes).find((c) => c.field === 'Name')
      expect(change).toEqual({ field: 'Name', old: SANDBOX_DRIFT.before.Name, new: SANDBOX_DRIFT.after.Name })
      expect(t.timeline[0]!.values?.Name).toBe(SANDBOX_DRIFT.before.Name)
      expect(t.carriedIn[0]).toMatchObject({ seq: 1, method: 'chats/history', where: 'Rels.Clients[0]' })
      expect(t.referencedIn.length).toBeGreaterThan(0)
      // Both people of the story touched the client: the customer (cookie) and the operator (Authorization).
      expect(t.identities.map((i) => i.identity).sort()).toEqual(['identity-1', 'identity-2'])
      const calls = new Set([...t.carriedIn, ...t.referencedIn].map((c) => c.seq))
      expect(t.identities.reduce((n, i) => n + i.calls, 0)).toBe(calls.size)
      expect(t.carriedIn.find((c) => c.method === 'clients/get')?.identity).toBe('identity-2') // the operator's lookup
      const missing = await app.inject({ url: '/api/sessions/story/entities/Clients/110', headers: bearer() })
      expect(missing.statusCode).toBe(404)
      expect(missing.json()).toMatchObject({ code: 'ENTITY_NOT_FOUND' })
      expect((await app.inject({ url: '/api/sessions/story/entities' })).statusCode).toBe(401)
    } finally {
      await app.close()
    }
  })
})

describe('a large session', { timeout: 300_000 }, () => {
  it('10,000 exchanges and 2,000 entities index, are written beside the session and read back; appended ones are added', async () => {
    const dir = await tempDir('reltape-ent-big-')
    try {
      const exchanges = Array.from({ length: 10_000 }, (_, i) => {
        const seq = i + 1
        const client = (i * 7) % 2000
        const answer = {
          OK: true,
          Error: null,
          Result: [{ Id: seq, ClientId: client, Text: `message ${seq}` }],
          Rels: { Clients: [{ Id: client, Name: `Client ${client} v${Math.floor(i / 5000)}` }] },
        }
        return { ...makeExchange(seq), response: jsonResponse(answer) }
      })
      const head = { format: 'reltape.session/1', name: 'big', createdAt: '2026-01-01T00:00:00.000Z', recording: { tool: 'test', mode: 'forward', upstream: null }, identities: [] }
      const write = (n: number) =>
        writeFile(join(dir, 'big.json'), `${JSON.stringify(head).slice(0, -1)},"exchanges":[\n${exchanges.slice(0, n).map((e) => JSON.stringify(e)).join(',\n')}\n]}\n`, { mode: 0o600 })
      const paths = sessionPaths(dir, 'big')
      await write(9_000)
      expect((await loadEntityIndex(await SessionReader.open(paths))).index.exchanges).toBe(9_000)
      await write(10_000) // the same 9,000 exchanges and 1,000 more
      const reader = await SessionReader.open(paths)
      const built = await loadEntityIndex(reader)
      expect(built.index.exchanges).toBe(10_000)
      expect(built.index.entities().filter((e) => e.type === 'Clients')).toHaveLength(2000)
      expect(built.index.get('Clients#7')!.versions).toHaveLength(2) // renamed halfway
      // Read back from disk by a new reader: the same entities, nothing read again.
      const again = await loadEntityIndex(await SessionReader.open(paths))
      expect(again.index.toJSON()).toEqual(JSON.parse(JSON.stringify(built.index.toJSON())))
      expect((await readFile(entitiesPath(paths), 'utf8')).split('\n')[0]).toContain('"exchanges":10000')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
