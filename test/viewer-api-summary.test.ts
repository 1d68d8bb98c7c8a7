/** List rows from exchanges (model/summary.ts), large-body previews, and reading reltape.config.json. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { summarize } from '../model/summary.js'
import { exchangeForView, OMIT_OVER_BYTES, PREVIEW_BYTES } from '../viewer/bodies.js'
import { loadRelsConfig } from '../viewer/config.js'
import { makeExchange } from './helpers/viewer-big-session.js'

describe('summarize', () => {
  it('reads the envelope: OK, Result count, Rels types; sizes and identity from the exchange', () => {
    const row = summarize(makeExchange(3))
    expect(row).toMatchObject({ seq: 3, method: 'POST', host: 'dev.iqstore.ru', path: '/public/api/v1/chats/history?n=3', ok: true, errorCode: null, resultCount: 1, relsTypes: ['Clients'], identity: 'identity-1', status: 200 })
    expect(row.responseSize).toBeGreaterThan(0)
    expect(row.contentType).toBe('application/json; charset=utf-8')
  })

  it('names an envelope error by Code, else Message, else its JSON', () => {
    const withError = (Error: unknown) => {
      const e = makeExchange(1)
      if (e.response) e.response.body = { kind: 'json', json: { OK: false, Error, Result: null }, contentType: 'application/json', size: 10 }
      return summarize(e).errorCode
    }
    expect(withError({ Code: 'ACCESS_DENIED', Message: 'no' })).toBe('ACCESS_DENIED')
    expect(withError({ Message: 'broken' })).toBe('broken')
    expect(withError('plain')).toBe('plain')
    expect(withError(null)).toBe('Error')
  })

  it('keeps a root path and a bare query readable', () => {
    expect(summarize(makeExchange(1, { request: { ...makeExchange(1).request, url: 'https://h.example' } })).path).toBe('/')
    expect(summarize(makeExchange(1, { request: { ...makeExchange(1).request, url: 'https://h.example?x=1' } })).path).toBe('/?x=1')
  })
})

describe('exchangeForView', () => {
  it('replaces a body over 2 MB by its first 256 KB, marked omitted, and leaves small ones alone', () => {
    const big = makeExchange(1)
    const text = 'x'.repeat(OMIT_OVER_BYTES + 10)
    if (big.response) big.response.body = { kind: 'text', text, contentType: 'text/plain', size: text.length }
    const view = exchangeForView(big)
    expect(view.response?.body).toMatchObject({ kind: 'text', truncated: true, omitted: true, size: text.length, contentType: 'text/plain' })
    expect((view.response?.body as { text: string }).text).toHaveLength(PREVIEW_BYTES)
    expect(big.response?.body).toMatchObject({ text }) // the cached exchange is not changed
    const small = makeExchange(2)
    expect(exchangeForView(small).response?.body).toBe(small.response?.body)
  })
})

describe('loadRelsConfig', () => {
  let root: string
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'reltape-viewer-config-'))
    await mkdir(join(root, 'project', 'sessions'), { recursive: true })
    await mkdir(join(root, 'elsewhere'))
  })
  afterAll(() => rm(root, { recursive: true, force: true }))

  it('reads the cwd first, then the sessions directory’s parent, else nothing', async () => {
    const sessions = join(root, 'project', 'sessions')
    expect(await loadRelsConfig(sessions, join(root, 'elsewhere'))).toEqual({ rels: {} })
    await writeFile(join(root, 'project', 'reltape.config.json'), JSON.stringify({ rels: { AvatarId: 'Files' } }))
    expect(await loadRelsConfig(sessions, join(root, 'elsewhere'))).toEqual({ rels: { AvatarId: 'Files' } })
    await writeFile(join(root, 'elsewhere', 'reltape.config.json'), JSON.stringify({ rels: { OwnerId: 'Users' } }))
    expect(await loadRelsConfig(sessions, join(root, 'elsewhere'))).toEqual({ rels: { OwnerId: 'Users' } })
  })

  it('rejects a bad table with CONFIG_INVALID naming the file and field', async () => {
    const cwd = join(root, 'bad')
    await mkdir(cwd)
    await writeFile(join(cwd, 'reltape.config.json'), JSON.stringify({ rels: { AvatarId: 3 } }))
    await expect(loadRelsConfig(join(root, 'project', 'sessions'), cwd)).rejects.toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringMatching(/bad\/reltape\.config\.json: rels\.AvatarId/) })
    await writeFile(join(cwd, 'reltape.config.json'), '{oops')
    await expect(loadRelsConfig(join(root, 'project', 'sessions'), cwd)).rejects.toMatchObject({ code: 'CONFIG_INVALID' })
  })
})
