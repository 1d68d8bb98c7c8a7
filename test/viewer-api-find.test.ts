/**
 * `GET /api/find` with `limit`, what the viewer's search box asks: the first matches, and how many there are in all
 * (`x-reltape-matches`), the same as `reltape find --json` lists. Past the first, sessions are counted from their
 * entity index's header, without reading their entity lines; a search the browser gives up on stops.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { SESSION_FORMAT, type Session } from '../model/session.js'
import { findInSessions, type FindMatch } from '../store/find.js'
import { SessionReader, SessionStore } from '../store/store.js'
import { buildViewerApp } from '../viewer/server.js'
import { jsonResponse } from './helpers/exchange-factory.js'
import { makeExchange, writeBigSession } from './helpers/viewer-big-session.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'

/** How many times entity lines were read from an index file (sessions whose lines hold matches). */
const reads = vi.hoisted(() => ({ lines: 0 }))
vi.mock('../store/entity-file.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../store/entity-file.js')>()
  return {
    ...real,
    openEntitiesFile: async (file: string) => {
      const opened = await real.openEntitiesFile(file)
      return (
        opened && {
          ...opened,
          lines: (indexes: readonly number[]) => {
            if (indexes.length > 0) reads.lines++
            return opened.lines(indexes)
          },
        }
      )
    },
  }
})

const config = { rels: {}, entities: {} }
let dir: string
let app: FastifyInstance

/** A session whose answers list the same client twice in Rels, each copy referring to manager 5 from one place. */
async function writeTwiceListed(name: string, n: number): Promise<void> {
  const exchanges = Array.from({ length: n }, (_, i) =>
    makeExchange(i + 1, {
      response: jsonResponse({ OK: true, Error: null, Result: [], Rels: { Clients: [{ Id: 11, ManagerId: 5 }, { Id: 11, ManagerId: 5 }], Managers: [{ Id: 5 }] } }),
    }),
  )
  const session: Session = { format: SESSION_FORMAT, name, createdAt: new Date(0).toISOString(), recording: { tool: 'test', mode: 'forward', upstream: null }, identities: [], exchanges }
  await writeFile(join(dir, `${name}.json`), JSON.stringify(session), { mode: 0o600 })
}

async function find(q: string, limit?: number): Promise<{ matches: FindMatch[]; total: string | undefined }> {
  const res = await app.inject({ url: `/api/find?q=${encodeURIComponent(q)}${limit === undefined ? '' : `&limit=${limit}`}`, headers: bearer() })
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
  return { matches: res.json<FindMatch[]>(), total: res.headers['x-reltape-matches'] as string | undefined }
}

const QUERIES = ['Clients#11', '11', 'NOT_FOUND', 'Managers#5', '5', 'message 2']

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-find-'))
  for (const name of ['a', 'b', 'c']) await writeBigSession(dir, name, 30)
  await writeTwiceListed('d', 4)
  await writeTwiceListed('e', 4)
  app = await buildViewerApp({ dir, config, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
})
afterAll(async () => {
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('GET /api/find?limit=', () => {
  it('answers the first matches, and in x-reltape-matches how many `reltape find` lists', async () => {
    for (const q of QUERIES) {
      const all = await findInSessions(new SessionStore(dir), q, config)
      expect(all.length, q).toBeGreaterThan(3)
      expect(await find(q, 3), q).toEqual({ matches: all.slice(0, 3), total: String(all.length) })
      expect(await find(q, 100_000), q).toEqual({ matches: all, total: String(all.length) })
      expect((await find(q)).matches, q).toEqual(all)
    }
  })

  it('counts the sessions past the first matches from their index headers, without reading their entity lines', async () => {
    // Clients#11: session a holds the first three. Managers#5: session d does, and e's repeats are counted once.
    for (const q of ['Clients#11', 'Managers#5']) {
      const all = await findInSessions(new SessionStore(dir), q, config) // every index current
      reads.lines = 0
      expect(await find(q, 3), q).toEqual({ matches: all.slice(0, 3), total: String(all.length) })
      expect(reads.lines, q).toBe(1)
    }
  })

  it('counts the same from an index written before headers held counts', async () => {
    const expected = await Promise.all(QUERIES.map((q) => findInSessions(new SessionStore(dir), q, config)))
    for (const name of ['a', 'b', 'c', 'd', 'e']) {
      const file = join(dir, `.${name}.entities`)
      const text = readFileSync(file, 'utf8')
      const end = text.indexOf('\n')
      const header = JSON.parse(text.slice(0, end)) as { matches?: number[] }
      expect(header.matches).toBeDefined()
      delete header.matches
      writeFileSync(file, JSON.stringify(header) + text.slice(end))
    }
    for (const [i, q] of QUERIES.entries()) expect(await find(q, 3), q).toEqual({ matches: expected[i]!.slice(0, 3), total: String(expected[i]!.length) })
  })
})

describe('a search the browser aborts', () => {
  it.each([
    ['the search box (limit)', '&limit=5'],
    ['every match (streamed)', ''],
  ])('stops reading sessions: %s', async (_, limit) => {
    const own = await mkdtemp(join(tmpdir(), 'reltape-viewer-find-abort-'))
    for (const name of ['s1', 's2', 's3', 's4', 's5']) await writeBigSession(own, name, 20)
    const viewer = await buildViewerApp({ dir: own, config, uiDir: join(own, 'no-ui'), token: TEST_TOKEN })
    const url = await viewer.listen({ port: 0, host: '127.0.0.1' })
    const connections = () => new Promise<number>((resolve, reject) => viewer.server.getConnections((e, n) => (e ? reject(e) : resolve(n))))
    // A text search reads each session's exchanges in turn; the first waits until the browser has gone.
    const exchanges = SessionReader.prototype.exchanges
    let started = 0
    let release!: () => void
    const gone = new Promise<void>((resolve) => (release = resolve))
    const spy = vi.spyOn(SessionReader.prototype, 'exchanges').mockImplementation(async function* (this: SessionReader) {
      started++
      await gone
      yield* exchanges.call(this)
    })
    try {
      // A connection of its own, closed when the browser gives up (as a tab does when its page goes).
      const asked = http.get(new URL(`/api/find?q=message${limit}`, url), { agent: false, headers: bearer() })
      const answer = new Promise<string>((resolve) => {
        asked.once('response', () => resolve('answered'))
        asked.once('error', () => resolve('aborted'))
      })
      await expect.poll(() => started, { timeout: 10_000 }).toBe(1)
      asked.destroy()
      expect(await answer).toBe('aborted')
      await expect.poll(connections, { timeout: 10_000 }).toBe(0) // the server has seen the connection close
      release()
      await new Promise((r) => setTimeout(r, 500))
      expect(started).toBe(1)
    } finally {
      spy.mockRestore()
      release()
      await viewer.close()
      await rm(own, { recursive: true, force: true })
    }
  })
})
