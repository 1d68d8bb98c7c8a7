/** A recorder appends exchanges; readers see them at once; closing writes one atomic, private file. */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync, appendFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionFormatError } from '../model/session.js'
import { SessionLockedError } from '../store/lock.js'
import { SessionNameError } from '../store/paths.js'
import { readSessionFiles, SessionNotFoundError, SessionStore } from '../store/store.js'
import { makeExchange, tempDir } from './helpers/exchange-factory.js'

const recording = { tool: 'test', mode: 'forward' as const, upstream: null }
const mode = (file: string) => statSync(file).mode & 0o777
const repo = join(import.meta.dirname, '..')

let dir: string
let store: SessionStore
const warnings: string[] = []
const warn = (m: string) => warnings.push(m)

beforeEach(async () => {
  dir = await tempDir()
  store = new SessionStore(dir)
  warnings.length = 0
})

describe('the session store', () => {
  it('appends, closes and reopens a session; seq goes on', async () => {
    const w = await store.open('s1', { recording, warn })
    for (let i = 0; i < 3; i++) w.append(makeExchange(w.nextSeq()))
    await w.close()
    const again = await store.open('s1', { recording, warn })
    expect(again.nextSeq()).toBe(4)
    await again.close()
    const s = await store.read('s1')
    expect(s.exchanges.map((e) => e.seq)).toEqual([1, 2, 3])
    expect(existsSync(join(dir, 's1.journal'))).toBe(false)
    expect(existsSync(join(dir, 's1.lock'))).toBe(false)
  })

  it('writes the head indented and one exchange per line, which reads back as the same session', async () => {
    const w = await store.open('layout', { recording, warn })
    const appended = [makeExchange(w.nextSeq(), 'line\nbreak'), makeExchange(w.nextSeq(), '"quoted"')]
    for (const e of appended) w.append(e)
    await w.close()
    const text = readFileSync(join(dir, 'layout.json'), 'utf8')
    const lines = text.split('\n')
    expect(lines[1]).toBe('  "format": "reltape.session/1",')
    const exchangeLines = lines.filter((l) => l.startsWith('    {"seq":'))
    expect(exchangeLines).toHaveLength(2)
    expect(JSON.parse(text).exchanges).toEqual(appended)
    expect((await store.read('layout')).exchanges).toEqual(appended)
  })

  it('lets readers see journaled exchanges before the session closes', async () => {
    const w = await store.open('live', { recording, warn })
    w.append(makeExchange(w.nextSeq(), 'first'))
    w.identityFor('973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee')
    const seen = await store.read('live')
    expect(seen.exchanges).toHaveLength(1)
    expect(seen.identities.map((i) => i.alias)).toEqual(['identity-1'])
    const [summary] = await store.list()
    expect(summary).toMatchObject({ name: 'live', exchanges: 1, identities: 1, errors: 0 })
    await w.close()
  })

  it('writes exchanges in seq order, also those that finish out of order', async () => {
    const w = await store.open('order', { recording, warn })
    const [first, second, third] = [w.nextSeq(), w.nextSeq(), w.nextSeq()]
    w.append(makeExchange(third!))
    w.append(makeExchange(first!))
    w.append(makeExchange(second!, 'finished last'))
    expect((await store.read('order')).exchanges.map((e) => e.seq)).toEqual([1, 2, 3])
    expect((await w.read()).exchanges.map((e) => e.seq)).toEqual([1, 2, 3])
    await w.close()
    const seqsIn = (file: string) => (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { exchanges: { seq: number }[] }).exchanges.map((e) => e.seq)
    expect(seqsIn('order.json')).toEqual([1, 2, 3])
    expect(existsSync(join(dir, 'order.journal'))).toBe(false)
  })

  it('gives the same alias to the same token and a new one to another', async () => {
    const w = await store.open('ids', { recording, warn })
    const a = w.identityFor('token-a-0000000000000000')
    const b = w.identityFor('token-b-0000000000000000')
    expect(w.identityFor('token-a-0000000000000000')).toBe(a)
    expect([a.alias, b.alias]).toEqual(['identity-1', 'identity-2'])
    await w.close()
    expect(readFileSync(join(dir, 'ids.json'), 'utf8')).not.toContain('token-a')
  })

  it('creates the session file, its journal and its lock readable by the owner only', async () => {
    const w = await store.open('private', { recording, warn })
    w.append(makeExchange(w.nextSeq()))
    expect(mode(join(dir, 'private.journal'))).toBe(0o600)
    expect(mode(join(dir, 'private.lock'))).toBe(0o600)
    await w.close()
    expect(mode(join(dir, 'private.json'))).toBe(0o600)
  })

  it('keeps the cost of one append flat: the file is not rewritten per exchange', async () => {
    const w = await store.open('flat', { recording, warn })
    w.append(makeExchange(w.nextSeq()))
    const before = statSync(join(dir, 'flat.json')).mtimeMs
    const sizeBefore = statSync(join(dir, 'flat.json')).size
    for (let i = 0; i < 500; i++) w.append(makeExchange(w.nextSeq()))
    expect(statSync(join(dir, 'flat.json')).mtimeMs).toBe(before)
    expect(statSync(join(dir, 'flat.json')).size).toBe(sizeBefore)
    // Appends of one turn are written together when it ends.
    await new Promise((r) => setImmediate(r))
    expect(readFileSync(join(dir, 'flat.journal'), 'utf8').split('\n').filter(Boolean)).toHaveLength(501)
    await w.close()
  })

  it('takes over a lock whose process is dead, with a warning', async () => {
    writeFileSync(join(dir, 'stale.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, host: (await import('node:os')).hostname(), since: 'then', purpose: 'recording' }))
    const w = await store.open('stale', { recording, warn })
    expect(warnings.join('\n')).toMatch(/stale lock .*stale\.lock.*is gone/)
    await w.close()
  })

  it('refuses session names with path segments', async () => {
    for (const bad of ['../escape', 'a/b', ''])
      await expect(store.open(bad, { recording, warn })).rejects.toThrow(SessionNameError)
    expect(existsSync(join(dir, '..', 'escape.json'))).toBe(false)
  })

  it('lists the sessions that exist when asked for one that does not', async () => {
    const w = await store.open('present', { recording, warn })
    await w.close()
    await expect(store.read('absent')).rejects.toThrow(SessionNotFoundError)
    await expect(store.read('absent')).rejects.toThrow(/sessions there: present/)
  })

  it('keeps an exchange appended in the same turn as process.exit', async () => {
    // A program that embeds the store and exits at once: the journal's pending line is written as the process exits.
    const program = `
      const { SessionStore } = await import(${JSON.stringify(join(repo, 'store/store.ts'))})
      const { makeExchange } = await import(${JSON.stringify(join(repo, 'test/helpers/exchange-factory.ts'))})
      const w = await new SessionStore(${JSON.stringify(dir)}).open('s', { recording: ${JSON.stringify(recording)}, warn: () => {} })
      w.append(makeExchange(1, 'said just before exit'))
      process.exit(0)`
    const code = await new Promise<number | null>((resolve) => spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], { cwd: repo, stdio: 'inherit', timeout: 20_000 }).once('exit', resolve))
    expect(code).toBe(0)
    const session = await store.read('s')
    expect(session.exchanges.map((e) => e.seq)).toEqual([1])
    expect(JSON.stringify(session.exchanges[0]!.response?.body)).toContain('said just before exit')
  })
})

