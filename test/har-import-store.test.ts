/**
 * What `reltape import` leaves on disk, now that an import is written in one pass without a journal: a session
 * file and an index that every reader takes as they are (the index is current: opening reads it, not the file), both
 * owner-only and nothing else; a session a recorder can go on with; and nothing at all for a HAR found invalid
 * after megabytes of it were written.
 */
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { HarFormatError } from '../model/har.js'
import type { Exchange } from '../model/session.js'
import { importHar } from '../store/har-import.js'
import { importHarToMemory } from './helpers/har-memory.js'
import { SessionReader, summaryFromIndex } from '../store/session-reader.js'
import { SessionStore } from '../store/store.js'
import { makeExchange } from './helpers/exchange-factory.js'
import { tempDirsPerTest } from './helpers/temp-dirs.js'

const FIXTURES = join(import.meta.dirname, 'fixtures/har')
const TOKEN = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d.0f1e2d3c4b5a69788796a5b4c3d2e1f0'

const dir = tempDirsPerTest('reltape-har-store-')

/** A HAR entry of this API: a JSON request, an envelope answer of `items` Rels (written as `json` is, or pretty). */
function entry(n: number, items: number, pretty = false): unknown {
  const answer = { OK: true, Error: null, Result: { Id: n }, Rels: { Clients: Array.from({ length: items }, (_, i) => ({ Id: i, Name: `clïent ${i} 😀` })) } }
  return {
    startedDateTime: new Date(Date.UTC(2026, 0, 1) + n).toISOString(),
    time: 3,
    request: {
      method: 'POST',
      url: 'https://api.example.test/public/api/v1/clients/get',
      httpVersion: 'HTTP/1.1',
      headers: [
        { name: 'Content-Type', value: 'application/json' },
        { name: 'Cookie', value: `client-session=${TOKEN}` },
      ],
      postData: { mimeType: 'application/json', text: JSON.stringify({ Id: n }) },
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      headers: [{ name: 'Content-Type', value: 'application/json; charset=utf-8' }],
      content: { size: -1, mimeType: 'application/json; charset=utf-8', text: JSON.stringify(answer, null, pretty ? 2 : undefined) },
    },
  }
}

/** A HAR of more than two write buffers (4 MB each), with one answer larger than a buffer; `last` ends it. */
async function bigHar(last?: unknown): Promise<string> {
  const entries = Array.from({ length: 400 }, (_, n) => entry(n + 1, 300, n % 7 === 0))
  entries.splice(200, 0, entry(999, 160_000))
  if (last !== undefined) entries.push(last)
  const file = join(await dir(), 'big.har')
  writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 'test', version: '1' }, entries } }))
  return file
}

const strip = (e: Exchange) => ({ ...e, id: '' })

describe('an imported session on disk', () => {
  it.each([
    ['a browser HAR', join(FIXTURES, 'chrome-devtools.har')],
    ['a HAR of many megabytes', ''],
  ])('%s: indexed as written, read from the index alone, the same as in memory, owner-only', async (_, fixture) => {
    const file = fixture || (await bigHar())
    const d = await dir()
    const result = await importHar(file, { dir: d, session: 's', filter: { all: true } })
    const paths = new SessionStore(d).paths('s')
    expect(readdirSync(d).sort()).toEqual(['.s.index', 's.json'])
    for (const f of [paths.file, paths.index]) expect(statSync(f).mode & 0o777).toBe(0o600)

    // Listing reads the trailer; opening reads the rows and leaves the index as it is (no rebuild, no rewrite).
    expect(await summaryFromIndex(paths)).toMatchObject({ exchanges: result.exchanges })
    const before = statSync(paths.index)
    const reader = await SessionReader.open(paths)
    const after = statSync(paths.index)
    expect([after.ino, after.mtimeMs, after.size]).toEqual([before.ino, before.mtimeMs, before.size])

    // The rows are those a reader makes of the file itself.
    rmSync(paths.index)
    const rebuilt = await SessionReader.open(paths, { saveIndex: false })
    expect(reader.rows).toEqual(rebuilt.rows)
    expect(reader.head).toEqual(rebuilt.head)
    expect(reader.fileOnDisk?.layout).toEqual(rebuilt.fileOnDisk?.layout)

    const read: Exchange[] = []
    for await (const e of reader.exchanges()) read.push(e)
    const memory = await importHarToMemory(file, { filter: { all: true } })
    expect(read.map(strip)).toEqual(memory.session.exchanges.map(strip))
    expect(reader.head.identities).toEqual(memory.session.identities)
  })

  it('with nothing the filter lets through: an empty session, indexed as well', async () => {
    const page = { ...(entry(1, 0) as object), request: { method: 'GET', url: 'https://app.example.test/index.html', httpVersion: 'HTTP/1.1', headers: [] } }
    const file = join(await dir(), 'page.har')
    writeFileSync(file, JSON.stringify({ log: { version: '1.2', creator: { name: 'test' }, entries: [{ ...page, response: { status: 200, headers: [{ name: 'Content-Type', value: 'text/html' }], content: { mimeType: 'text/html', text: '<p>' } } }] } }))
    const d = await dir()
    expect(await importHar(file, { dir: d, session: 's' })).toMatchObject({ entries: 1, exchanges: 0, leftOut: 1 })
    const paths = new SessionStore(d).paths('s')
    const before = statSync(paths.index)
    const reader = await SessionReader.open(paths)
    expect(statSync(paths.index).ino).toBe(before.ino)
    expect(reader.rows).toEqual([])
    expect(reader.head.recording).toEqual({ tool: 'test', mode: 'import', upstream: null })
    rmSync(paths.index)
    expect((await SessionReader.open(paths, { saveIndex: false })).fileOnDisk?.layout).toEqual(reader.fileOnDisk?.layout)
  })

  it('is continued by a recorder as any session', async () => {
    const d = await dir()
    const result = await importHar(await bigHar(), { dir: d, session: 's' })
    const store = new SessionStore(d)
    const writer = await store.open('s', { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: () => {} })
    const seq = writer.nextSeq()
    writer.append(makeExchange(seq))
    await writer.close()
    const session = await store.read('s')
    expect(session.exchanges).toHaveLength(result.exchanges + 1)
    expect(session.exchanges.at(-1)!.seq).toBe(seq)
    expect(session.identities).toHaveLength(1)
  })

  it('leaves the HAR file closed when its first entry is invalid and megabytes follow', async () => {
    const d = await dir()
    const big = await bigHar()
    const file = join(await dir(), 'bad-first.har')
    // The first entry has no request URL; the rest of the big HAR follows it.
    writeFileSync(file, readFileSync(big, 'utf8').replace('"entries":[', '"entries":[{"startedDateTime":"2026-01-01T00:00:00Z","request":{"method":"GET"}},'))
    const error = await importHar(file, { dir: d, session: 's' }).catch((e: unknown) => e)
    expect((error as Error).message).toContain('log.entries[0].request.url: missing')
    const open = readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)]
      } catch {
        return [] // closed meanwhile (the listing's own descriptor)
      }
    })
    expect(open).not.toContain(file)
    expect(readdirSync(d)).toEqual([])
  })

  it('is not there at all when the last entry is invalid, after megabytes were written', async () => {
    const d = await dir()
    const file = await bigHar({ startedDateTime: '2026-01-01T00:00:00Z', request: { method: 'GET' } })
    const error = await importHar(file, { dir: d, session: 's' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HarFormatError)
    expect((error as Error).message).toContain('log.entries[401].request.url: missing')
    expect(readdirSync(d)).toEqual([])
  })
})
