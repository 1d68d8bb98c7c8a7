/**
 * Sessions of any size: read an exchange at a time, indexed beside the file, continued by appending. What a user
 * sees: every layout of a session opens, the index is a cache that can go, a stop keeps the file's old bytes, and
 * a stop cut short by a crash loses nothing.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionReader, SessionStore } from '../store/store.js'
import { makeExchange, tempDir } from './helpers/exchange-factory.js'

const recording = { tool: 'test', mode: 'forward' as const, upstream: null }
const fixture = join(import.meta.dirname, 'fixtures/sessions/example.json')

let dir: string
let store: SessionStore

beforeEach(async () => {
  dir = await tempDir()
  store = new SessionStore(dir)
})

/** Pretends a recorder of this session died: its lock names a process that does not exist. */
function staleLock(name: string): void {
  writeFileSync(join(dir, `${name}.lock`), JSON.stringify({ pid: 2 ** 22 + 4321, host: hostname(), since: 'then', purpose: 'recording' }))
}

async function record(name: string, count: number): Promise<void> {
  const w = await store.open(name, { recording, warn: () => {} })
  for (let i = 0; i < count; i++) w.append(makeExchange(w.nextSeq()))
  await w.close()
}

describe('the session reader', () => {
  it('opens the same session written pretty-printed, on one line, or one exchange per line', async () => {
    const expected = JSON.parse(readFileSync(fixture, 'utf8')) as { exchanges: unknown[] }
    copyFileSync(fixture, join(dir, 'pretty.json'))
    writeFileSync(join(dir, 'oneline.json'), JSON.stringify(expected))
    // reltape's own layout: the writer folds a journal holding the same exchanges into a new file.
    await store.open('lines', { recording, warn: () => {} }).then(async (w) => {
      for (const e of expected.exchanges) w.append(e as never)
      await w.close()
    })
    for (const name of ['pretty', 'oneline', 'lines']) {
      const session = await store.read(name)
      expect(session.exchanges, name).toEqual(expected.exchanges)
      const reader = await store.reader(name)
      const last = reader.rows[reader.rows.length - 1]!.summary.seq
      expect(await reader.exchange(last), name).toEqual(expected.exchanges[expected.exchanges.length - 1])
    }
  })

  it('keeps an index beside the session that can be deleted or go stale without losing anything', async () => {
    await record('cached', 20)
    const index = join(dir, '.cached.index')
    expect(existsSync(index)).toBe(true)
    expect(statSync(index).mode & 0o777).toBe(0o600)
    expect(readFileSync(index, 'utf8')).not.toContain('"Payload"') // rows, never bodies
    const before = (await store.read('cached')).exchanges
    rmSync(index)
    expect((await store.read('cached')).exchanges).toEqual(before)
    expect(existsSync(index)).toBe(true) // rebuilt by the reader

    // Another program rewrites the file (fewer exchanges, another layout): the index no longer fits and is rebuilt.
    const file = join(dir, 'cached.json')
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { exchanges: unknown[] }
    doc.exchanges = doc.exchanges.slice(0, 5)
    writeFileSync(file, JSON.stringify(doc, null, 2))
    expect((await store.read('cached')).exchanges).toEqual(before.slice(0, 5))
    expect((await store.list())[0]).toMatchObject({ name: 'cached', exchanges: 5 })
  })

  it('lists a session from its index alone, and counts what a live journal adds', async () => {
    await record('listed', 10)
    expect(await store.list()).toEqual([expect.objectContaining({ name: 'listed', exchanges: 10, errors: 0, identities: 0 })])
    const w = await store.open('listed', { recording, warn: () => {} })
    w.append(makeExchange(w.nextSeq()))
    w.flush()
    expect((await store.list())[0]).toMatchObject({ exchanges: 11 })
    await w.close()
    expect((await store.list())[0]).toMatchObject({ exchanges: 11 })
  })
})

describe('continuing a session', () => {
  it('appends on stop: the bytes already in the file stay as they were, and the file stays one JSON document', async () => {
    await record('grown', 3)
    const file = join(dir, 'grown.json')
    const first = readFileSync(file)
    const keep = first.subarray(0, first.lastIndexOf('\n  ]'))
    await record('grown', 2)
    const second = readFileSync(file)
    expect(second.subarray(0, keep.length).equals(keep)).toBe(true)
    const doc = JSON.parse(second.toString('utf8')) as { exchanges: { seq: number }[] }
    expect(doc.exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
  })

  it('leaves the file alone when a recorder stops with nothing new', async () => {
    await record('idle', 3)
    const file = join(dir, 'idle.json')
    const before = { bytes: readFileSync(file), mtime: statSync(file).mtimeMs }
    await record('idle', 0)
    expect(readFileSync(file).equals(before.bytes)).toBe(true)
    expect(statSync(file).mtimeMs).toBe(before.mtime)
  })

  it("removes the temporary files a crashed writer left (file, index, journal, entities), never a live process's", async () => {
    await record('left', 2)
    const dead = 2 ** 22 + 4321
    const leftovers = ['json', 'index', 'journal', 'entities'].map((kind) => join(dir, `.left.${kind}.${dead}.0badc0de.tmp`))
    const live = join(dir, `.left.journal.${process.ppid}.0badc0de.tmp`)
    for (const f of [...leftovers, live]) writeFileSync(f, 'half written')
    await record('left', 1)
    expect(leftovers.filter((f) => existsSync(f))).toEqual([])
    expect(existsSync(live)).toBe(true)
    expect((await SessionReader.open(store.paths('left'))).count).toBe(3)
  })

  it('completes a stop cut short by a crash from the journal, which it kept', async () => {
    await record('cut', 3)
    const w = await store.open('cut', { recording, warn: () => {} })
    const identity = w.identityFor('0123456789abcdef0123456789abcdef')
    for (let i = 0; i < 3; i++) w.append(makeExchange(w.nextSeq()))
    w.flush()
    // The crash: the stop had written half of exchange 4 after the old end of the array when the process died.
    const file = join(dir, 'cut.json')
    const text = readFileSync(file, 'utf8')
    const end = text.lastIndexOf('\n  ]')
    const half = JSON.stringify(makeExchange(4)).slice(0, 40)
    writeFileSync(file, text.slice(0, end) + ',\n    ' + half)
    staleLock('cut')

    // A reader sees everything at once: the file's complete exchanges and the journal's.
    expect((await store.read('cut')).exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(existsSync(join(dir, 'cut.journal'))).toBe(false) // it folded the journal, under the lock
    const doc = JSON.parse(readFileSync(file, 'utf8')) as { exchanges: { seq: number }[]; identities: { alias: string }[] }
    expect(doc.exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(doc.identities.map((i) => i.alias)).toEqual([identity.alias])
  })

  it('never folds the journal of a recorder that is still running', async () => {
    const w = await store.open('live', { recording, warn: () => {} })
    w.append(makeExchange(w.nextSeq()))
    w.flush()
    expect((await store.read('live')).exchanges).toHaveLength(1)
    expect(existsSync(join(dir, 'live.journal'))).toBe(true)
    await w.close()
  })

  it('gives an older file (identities before the exchanges) a new identity by writing it once in the appending layout', async () => {
    copyFileSync(fixture, join(dir, 'old.json'))
    const before = (await store.read('old')).exchanges
    const w = await store.open('old', { recording, warn: () => {} })
    w.identityFor('fedcba9876543210fedcba9876543210')
    w.append(makeExchange(w.nextSeq()))
    await w.close()
    const text = readFileSync(join(dir, 'old.json'), 'utf8')
    const doc = JSON.parse(text) as { exchanges: unknown[]; identities: unknown[] }
    expect(doc.exchanges.slice(0, before.length)).toEqual(before)
    expect(doc.exchanges).toHaveLength(before.length + 1)
    expect(text.indexOf('"identities"')).toBeGreaterThan(text.indexOf('"exchanges"'))
    expect(statSync(join(dir, 'old.json')).mode & 0o777).toBe(0o600)
  })

  it('reports a file cut short without a journal as damage, naming the file and line, and leaves it as it is', async () => {
    await record('damaged', 3)
    const file = join(dir, 'damaged.json')
    truncateSync(file, statSync(file).size - 30)
    const before = readFileSync(file)
    await expect(store.read('damaged')).rejects.toThrow(/damaged\.json: line \d+, column \d+: not valid JSON: the file ends before the JSON does/)
    await expect(store.open('damaged', { recording, warn: () => {} })).rejects.toThrow(/damaged\.json/)
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('reads a session whose journal is being written, by line, as it grows', async () => {
    const w = await store.open('growing', { recording, warn: () => {} })
    const reader = await SessionReader.open(store.paths('growing'))
    expect(reader.count).toBe(0)
    w.append(makeExchange(w.nextSeq()))
    w.append(makeExchange(w.nextSeq()))
    w.flush()
    const change = await reader.refresh()
    expect(change.added.map((r) => r.summary.seq)).toEqual([1, 2])
    await w.close()
    expect(await reader.refresh()).toMatchObject({ added: [], reloaded: false })
    expect((await reader.exchange(2)).seq).toBe(2)
  })

  it('a reader following a long recording keeps the index a fresh reading would write', async () => {
    await record('long', 30)
    const w = await store.open('long', { recording, warn: () => {} })
    const reader = await SessionReader.open(store.paths('long'))
    const index = join(dir, '.long.index')
    // Past a thousand new rows at a time, the reader writes the index: whole the first time, then its new rows only.
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1100; i++) w.append(makeExchange(w.nextSeq()))
      w.flush()
      expect((await reader.refresh()).added).toHaveLength(1100)
    }
    const followed = readFileSync(index)
    expect(followed.toString('utf8').trim().split('\n')).toHaveLength(30 + 3300 + 1) // rows, then the trailer
    rmSync(index)
    await SessionReader.open(store.paths('long')) // reads the file and the journal again and writes the index whole
    expect(readFileSync(index).equals(followed)).toBe(true)
    await w.close()
  })

  it('follows a recording at the cost of its new exchanges: the rows it holds are not walked again', async () => {
    await record('followed', 200)
    const w = await store.open('followed', { recording, warn: () => {} })
    const reader = await SessionReader.open(store.paths('followed'))
    let looks = 0
    for (const row of reader.rows) {
      const summary = row.summary
      Object.defineProperty(row, 'summary', { enumerable: true, get: () => (looks++, summary) })
    }
    const identity = w.identityFor('0123456789abcdef0123456789abcdef')
    w.append(makeExchange(w.nextSeq()))
    const late = w.nextSeq() // an answer streamed to its end after the next one: journaled after it
    w.append(makeExchange(w.nextSeq()))
    w.flush()
    const change = await reader.refresh()
    expect(looks).toBeLessThan(5) // the last row, to place the new ones after it; not the 200
    expect(change.added.map((r) => r.summary.seq)).toEqual([201, 203])
    expect(reader.head.identities.map((i) => i.alias)).toEqual([identity.alias])

    // The late one takes its place in seq order; the reader then holds what a fresh opening reads.
    w.append(makeExchange(late))
    w.flush()
    expect((await reader.refresh()).added.map((r) => r.summary.seq)).toEqual([late])
    const fresh = await SessionReader.open(store.paths('followed'), { saveIndex: false })
    expect(reader.rows.map((r) => r.summary.seq)).toEqual(Array.from({ length: 203 }, (_, i) => i + 1))
    expect(reader.rows).toEqual(fresh.rows)
    expect(reader.summary()).toEqual(fresh.summary())
    expect(reader.head).toEqual(fresh.head)
    expect((await reader.exchange(late)).seq).toBe(late)
    await w.close()
    expect(await reader.refresh()).toMatchObject({ added: [], reloaded: false })
    expect(reader.count).toBe(203)
  })
})
