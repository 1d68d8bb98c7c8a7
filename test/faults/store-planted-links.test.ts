/**
 * A hostile neighbour plants symbolic links where reltape is about to write. Nothing reltape records (tokens
 * included) is ever written through them, and the session is still written where it belongs.
 */
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionStore } from '../../store/store.js'
import { makeExchange, tempDir } from '../helpers/exchange-factory.js'

const recording = { tool: 'test', mode: 'forward' as const, upstream: null }
let dir: string
let outside: string
let store: SessionStore

beforeEach(async () => {
  const root = await tempDir('reltape-links-')
  dir = join(root, 'sessions')
  outside = join(root, 'outside')
  mkdirSync(dir)
  mkdirSync(outside)
  store = new SessionStore(dir)
})

describe('planted links in the sessions directory', () => {
  it('never follows a link at the old temporary name: its target keeps its bytes and mode, the session is written', async () => {
    const target = join(outside, 'precious.txt')
    writeFileSync(target, 'not yours', { mode: 0o644 })
    symlinkSync(target, join(dir, '.planted.json.tmp'))
    const w = await store.open('planted', { recording, warn: () => {} })
    w.append(makeExchange(w.nextSeq()))
    await w.close()
    expect(readFileSync(target, 'utf8')).toBe('not yours')
    expect((await store.read('planted')).exchanges).toHaveLength(1)
    expect(existsSync(join(dir, '.planted.json.tmp'))).toBe(false) // a leftover from a crash, removed (the link, not its target)
    expect(existsSync(target)).toBe(true)
  })

  it('refuses to journal through a dangling link at the journal, naming it, and creates nothing outside', async () => {
    const target = join(outside, 'stolen.journal')
    symlinkSync(target, join(dir, 'trap.journal'))
    const error = await store.open('trap', { recording, warn: () => {} }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'FILE_IS_LINK' })
    expect((error as Error).message).toContain(join(dir, 'trap.journal'))
    expect(existsSync(target)).toBe(false)
    expect(existsSync(join(dir, 'trap.lock'))).toBe(false) // the lock is released
  })

  it('does not append through a session file that is a link to another file', async () => {
    const w0 = await store.open('real', { recording, warn: () => {} })
    w0.append(makeExchange(w0.nextSeq()))
    await w0.close()
    symlinkSync(join(dir, 'real.json'), join(dir, 'alias.json'))
    const before = readFileSync(join(dir, 'real.json'))
    const w = await store.open('alias', { recording, warn: () => {} })
    w.append(makeExchange(w.nextSeq()))
    await expect(w.close()).rejects.toMatchObject({ code: 'FILE_IS_LINK' })
    expect(readFileSync(join(dir, 'real.json')).equals(before)).toBe(true)
    // The exchange is not lost: it stays in the journal, which a reader still sees.
    expect((await store.read('alias')).exchanges).toHaveLength(2)
  })
})
