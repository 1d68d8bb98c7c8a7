/**
 * No size limit but the disk: a session file and a crash-left journal each longer than V8's longest string
 * (about 537 MB) are listed, viewed, replayed, continued and recovered. Both are written here in reltape's own
 * layout, 16 KB per exchange, so the test stays within a minute.
 */
import { createWriteStream } from 'node:fs'
import { rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { SESSION_FORMAT, type Exchange } from '../model/session.js'
import { exchangeLine } from '../store/journal.js'
import { SessionStore } from '../store/store.js'
import { startReplay } from '../replay/start-replay.js'
import { buildViewerApp } from '../viewer/server.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'
import { tempDir } from './helpers/exchange-factory.js'

/** V8's longest string, in UTF-16 code units (2^29 - 24): a file longer than this cannot be one string. */
const V8_MAX_STRING = 2 ** 29 - 24
const BODY = 'x'.repeat(16 * 1024)
const COUNT = Math.ceil((V8_MAX_STRING + 16 * 1024 * 1024) / (BODY.length + 600))

function exchange(seq: number): Exchange {
  const text = JSON.stringify({ OK: true, Error: null, Result: { Id: seq, Text: BODY }, Rels: {} })
  const request = JSON.stringify({ ChatId: seq, LocalId: seq })
  return {
    seq,
    id: `huge-${seq}`,
    startedAt: new Date(Date.UTC(2026, 0, 1) + seq).toISOString(),
    durationMs: 3,
    request: {
      method: 'POST',
      url: 'https://localhost:8443/public/api/v1/chats/history',
      httpVersion: '1.1',
      headers: [['Content-Type', 'application/json']],
      body: { kind: 'json', json: JSON.parse(request), contentType: 'application/json', size: request.length },
      auth: null,
    },
    response: { status: 200, statusText: 'OK', headers: [['Content-Type', 'application/json']], body: { kind: 'json', json: JSON.parse(text), contentType: 'application/json', size: text.length }, contentEncoding: null },
    error: null,
  }
}

/** Writes `lines(i)` for i in 1..count through a stream, waiting for the disk when it asks to. */
async function writeLines(file: string, first: string, count: number, line: (seq: number, last: boolean) => string, last: string): Promise<void> {
  const out = createWriteStream(file, { mode: 0o600 })
  out.write(first)
  for (let seq = 1; seq <= count; seq++) {
    if (!out.write(line(seq, seq === count))) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  out.end(last)
  await new Promise<void>((r) => out.once('finish', () => r()))
}

const head = (name: string) => ({ format: SESSION_FORMAT, name, createdAt: '2026-01-01T00:00:00.000Z', recording: { tool: 'test', mode: 'forward', upstream: null } })

let dir: string
beforeAll(async () => {
  dir = await tempDir('reltape-huge-')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('a session longer than V8 can hold as one string', () => {
  it('is listed, paged and opened in the viewer, replayed, and continued by a recorder', async () => {
    const file = join(dir, 'huge.json')
    const opening = JSON.stringify({ ...head('huge'), exchanges: [] }, null, 2).replace(/\[\]\n}$/, '[\n')
    await writeLines(file, opening, COUNT, (seq, last) => `    ${JSON.stringify(exchange(seq))}${last ? '' : ','}\n`, '  ],\n  "identities": []\n}\n')
    expect((await stat(file)).size).toBeGreaterThan(V8_MAX_STRING)

    const store = new SessionStore(dir)
    expect(await store.list()).toEqual([expect.objectContaining({ name: 'huge', exchanges: COUNT, errors: 0 })])

    const viewer = await buildViewerApp({ dir, config: {}, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
    try {
      const page = (await viewer.inject({ url: `/api/sessions/huge/exchanges?offset=${COUNT - 2}`, headers: bearer() })).json() as { total: number; items: { seq: number }[] }
      expect(page).toMatchObject({ total: COUNT, items: [{ seq: COUNT - 1 }, { seq: COUNT }] })
      const one = (await viewer.inject({ url: `/api/sessions/huge/exchanges/${COUNT}`, headers: bearer() })).json() as { id: string }
      expect(one.id).toBe(`huge-${COUNT}`)
    } finally {
      await viewer.close()
    }

    const replay = await startReplay({ session: 'huge', dir })
    try {
      const res = await fetch(`${replay.url}/public/api/v1/chats/history`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ChatId: COUNT, LocalId: 7 }) })
      const body = (await res.json()) as { Result: { Id: number } }
      expect(body.Result.Id).toBe(COUNT)
      expect(replay.misses).toEqual([])
    } finally {
      await replay.close()
    }

    const w = await store.open('huge', { recording: head('huge').recording as never, warn: () => {} })
    expect(w.nextSeq()).toBe(COUNT + 1)
    w.append({ ...exchange(COUNT + 1), id: 'after-the-wall' })
    await w.close()
    const reader = await store.reader('huge')
    expect(reader.count).toBe(COUNT + 1)
    expect((await reader.exchange(COUNT + 1)).id).toBe('after-the-wall')
  }, 240_000)

  it('recovers a crash-left journal of that size into a session', async () => {
    const journal = join(dir, 'crashed.journal')
    await writeLines(journal, '', COUNT, (seq) => exchangeLine(JSON.stringify(exchange(seq))) + '\n', '')
    expect((await stat(journal)).size).toBeGreaterThan(V8_MAX_STRING)
    await writeFile(join(dir, 'crashed.lock'), JSON.stringify({ pid: 2 ** 22 + 77, host: hostname(), since: 'then', purpose: 'recording' }))

    const store = new SessionStore(dir)
    const reader = await store.reader('crashed')
    expect(reader.count).toBe(COUNT)
    expect(reader.hasJournal).toBe(false) // folded into crashed.json, once
    expect((await reader.exchange(COUNT)).id).toBe(`huge-${COUNT}`)
    expect((await stat(join(dir, 'crashed.json'))).size).toBeGreaterThan(V8_MAX_STRING)
  }, 240_000)
})
