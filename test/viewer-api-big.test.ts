/** A 10,000-exchange session: paged from a cache, and a growing journal read from its last offset only. */
import { appendFile, mkdtemp, rm } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExchangePage } from '../model/summary.js'
import { JournalError } from '../store/journal.js'
import { SessionCache, type CachedSession } from '../viewer/session-cache.js'
import { buildViewerApp } from '../viewer/server.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'
import { appendExchange, closeSessions, makeExchange, writeBigSession } from './helpers/viewer-big-session.js'

const N = 10_000
let dir: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-big-'))
  await writeBigSession(dir, 'big', N)
  app = await buildViewerApp({ dir, config: {}, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
})
afterAll(async () => {
  await closeSessions()
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('a 10,000-exchange session', () => {
  it('pages through every row in order, up to 1000 at a time', async () => {
    const seqs: number[] = []
    for (let offset = 0; offset < N; offset += 1000) {
      const page = (await app.inject({ url: `/api/sessions/big/exchanges?offset=${offset}&limit=1000`, headers: bearer() })).json() as ExchangePage
      expect(page.total).toBe(N)
      seqs.push(...page.items.map((i) => i.seq))
    }
    expect(seqs).toHaveLength(N)
    expect(seqs.every((s, i) => s === i + 1)).toBe(true)
    const last = (await app.inject({ url: `/api/sessions/big/exchanges?offset=${N - 3}`, headers: bearer() })).json() as ExchangePage
    expect(last.items.map((i) => i.seq)).toEqual([N - 2, N - 1, N])
    expect(last.items[2]).toMatchObject({ ok: false, errorCode: 'NOT_FOUND' }) // every 10th fails
    const list = (await app.inject({ url: '/api/sessions', headers: bearer() })).json() as { exchanges: number; errors: number }[]
    expect(list[0]).toMatchObject({ exchanges: N, errors: N / 10 })
  })
})

/** The rows a cached session lists. */
const summariesOf = (entry: CachedSession) => entry.reader.rows.map((r) => r.summary)

/** A lock as a live recorder (this process) holds it. */
function holdLock(name: string): void {
  writeFileSync(join(dir, `${name}.lock`), JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), purpose: 'test' }))
}

describe('SessionCache', () => {
  it('reads only the new journal lines while a recorder appends, and keeps every row once when the recorder stops', async () => {
    const cache = new SessionCache(dir)
    const first = await cache.refresh('big')
    expect(first).toMatchObject({ reloaded: true, added: [] })
    expect((await cache.refresh('big')).entry).toBe(first.entry) // unchanged files: the same parsed session

    await appendExchange(dir, 'big', makeExchange(N + 1))
    const grown = await cache.refresh('big')
    expect(grown.reloaded).toBe(false)
    expect(grown.added.map((s) => s.seq)).toEqual([N + 1])
    expect(grown.entry).toBe(first.entry)

    // An exchange that started earlier but finished later is placed by seq.
    await appendExchange(dir, 'big', makeExchange(N + 3))
    await appendExchange(dir, 'big', makeExchange(N + 2))
    const two = await cache.refresh('big')
    expect(two.added.map((s) => s.seq)).toEqual([N + 2, N + 3])
    expect(summariesOf(two.entry).slice(-3).map((s) => s.seq)).toEqual([N + 1, N + 2, N + 3])

    // The recorder stops: its exchanges move from the journal to the end of the file, and no row is shown twice.
    await closeSessions(dir, 'big')
    const folded = await cache.refresh('big')
    expect(folded.added).toEqual([])
    expect(summariesOf(folded.entry)).toHaveLength(N + 3)
    expect(new Set(summariesOf(folded.entry).map((s) => s.id)).size).toBe(N + 3)
    expect((await cache.exchange('big', N + 2))?.id).toBe(`big-${N + 2}`)
  })

  it('waits for a half-written journal line, and names the journal and line of a bad one', async () => {
    const cache = new SessionCache(dir)
    holdLock('torn') // a recorder is writing this journal: it is followed, not folded
    const journal = join(dir, 'torn.journal')
    const line = JSON.stringify({ t: 'exchange', exchange: makeExchange(1) })
    await appendFile(journal, line.slice(0, 50))
    expect(summariesOf(await cache.get('torn'))).toHaveLength(0)
    await appendFile(journal, line.slice(50) + '\n')
    const done = await cache.refresh('torn')
    expect(done.added.map((s) => s.seq)).toEqual([1])
    await appendFile(journal, 'not json\n')
    const error = await cache.refresh('torn').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(JournalError)
    expect((error as JournalError).message).toMatch(/torn\.journal:2: not valid JSON/)
    await expect(cache.refresh('torn')).rejects.toBeInstanceOf(JournalError) // stays broken, not skipped
  })

  it('notices a journal replaced by another one, even one that reuses its inode', async () => {
    const cache = new SessionCache(dir)
    holdLock('swap')
    const journal = join(dir, 'swap.journal')
    const line = (seq: number) => JSON.stringify({ t: 'exchange', exchange: makeExchange(seq, { id: `swap-${seq}` }) }) + '\n'
    await appendFile(journal, line(1) + line(2))
    expect(summariesOf(await cache.get('swap')).map((s) => s.seq)).toEqual([1, 2])
    await rm(journal)
    await appendFile(journal, line(7) + line(8) + line(9))
    expect(summariesOf(await cache.get('swap')).map((s) => s.seq)).toEqual([7, 8, 9])
  })

  it('keeps a bounded number of parsed sessions', async () => {
    const cache = new SessionCache(dir, 2)
    for (const name of ['a', 'b', 'c']) await writeBigSession(dir, name, 2)
    const a = await cache.get('a')
    await cache.get('b')
    await cache.get('c')
    expect(await cache.get('a')).not.toBe(a) // evicted, read again
  })
})
