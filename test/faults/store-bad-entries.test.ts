/**
 * A sessions directory holding things that are not sessions: a stray copy, a name too long for its journal, a link
 * loop, a directory named like a session, a file with garbage in its middle. Every real session stays listed;
 * each bad entry is listed as invalid with a reason that names it; opening one says what is wrong, where.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { SessionStore } from '../../store/store.js'
import { buildViewerApp } from '../../viewer/server.js'
import { bearer, TEST_TOKEN } from '../helpers/viewer-token.js'
import { makeExchange, tempDir } from '../helpers/exchange-factory.js'

const recording = { tool: 'test', mode: 'forward' as const, upstream: null }
const longName = 'x'.repeat(200)
let dir: string
let store: SessionStore

beforeAll(async () => {
  dir = await tempDir('reltape-bad-entries-')
  store = new SessionStore(dir)
  const w = await store.open('good', { recording, warn: () => {} })
  w.append(makeExchange(w.nextSeq()))
  await w.close()
  copyFileSync(join(dir, 'good.json'), join(dir, 'copy of good.json'))
  copyFileSync(join(dir, 'good.json'), join(dir, `${longName}.json`))
  symlinkSync(join(dir, 'loop.json'), join(dir, 'loop.json'))
  mkdirSync(join(dir, 'folder.json'))
  const text = readFileSync(join(dir, 'good.json'), 'utf8')
  writeFileSync(join(dir, 'garbled.json'), text.replace('"seq":1', '"seq":1 garbage'))
})

describe('bad entries in the sessions directory', () => {
  it('are listed as invalid with their reason while the good session stays listed', async () => {
    const list = await store.list()
    const byName = new Map(list.map((s) => [s.name, s]))
    expect(byName.get('good')).toMatchObject({ exchanges: 1 })
    expect(byName.get('good')?.invalid).toBeUndefined()
    expect(byName.get('copy of good')?.invalid).toMatch(/letters, digits/)
    expect(byName.get('loop')?.invalid).toMatch(/loop\.json.*loop/)
    expect(byName.get('folder')?.invalid).toMatch(/folder\.json.*is a directory/)
    expect(byName.get('garbled')?.invalid).toMatch(/garbled\.json: line \d+, column \d+: .*not valid JSON/)
    expect(byName.get('garbled')?.invalid).not.toMatch(/truncated/)
    expect(byName.get(longName)).toMatchObject({ exchanges: 1 }) // its journal's name would be too long: there is none
  })

  it('leave the viewer listing every session', async () => {
    const app = await buildViewerApp({ dir, config: {}, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
    try {
      const res = await app.inject({ url: '/api/sessions', headers: bearer() })
      expect(res.statusCode).toBe(200)
      const names = (res.json() as { name: string; invalid?: string }[]).map((s) => s.name)
      expect(names).toEqual(expect.arrayContaining(['good', 'copy of good', 'loop', 'folder', 'garbled']))
      const folder = await app.inject({ url: '/api/sessions/folder/exchanges', headers: bearer() })
      expect(folder.json()).toMatchObject({ code: 'SESSION_INVALID' })
      expect((folder.json() as { message: string }).message).toMatch(/folder\.json.*is a directory/)
    } finally {
      await app.close()
    }
  })

  it('are named with the real problem when opened', async () => {
    await expect(store.read('folder')).rejects.toThrow(/folder\.json: \$: is a directory, not a session file/)
    await expect(store.read('loop')).rejects.toThrow(/loop\.json.*loop/)
    await expect(store.read('garbled')).rejects.toThrow(/garbled\.json: line \d+, column \d+: exchanges\[0\] is not valid JSON/)
  })
})
