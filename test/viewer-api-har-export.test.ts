/**
 * The viewer's HAR export route and import warnings through `inject()`: the session as a HAR download (tokens masked
 * unless `reveal=1`, the run's token asked for), and the warnings of `reltape import` kept beside a session and
 * served with it.
 */
import { cp, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildViewerApp } from '../viewer/server.js'
import { importNotesPath } from '../viewer/import-notes.js'
import { runCli } from './helpers/cli.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'

const FIXTURES = new URL('./fixtures/viewer/sessions/', import.meta.url)
const HTTPTOOLKIT = new URL('./fixtures/har/httptoolkit.har', import.meta.url).pathname
const TOKEN = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'
let dir: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-har-export-'))
  await cp(FIXTURES, dir, { recursive: true })
  const imported = runCli(['import', HTTPTOOLKIT, '--dir', dir, '--session', 'from-har'])
  expect(imported.code, imported.stderr).toBe(0)
  const clean = runCli(['import', new URL('./fixtures/har/firefox.har', import.meta.url).pathname, '--dir', dir, '--session', 'clean'])
  expect(clean.code, clean.stderr).toBe(0)
  app = await buildViewerApp({ dir, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
}, 120_000)
afterAll(async () => {
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

type Har = { log: { creator: { name: string }; entries: { _reltape: { seq: number } }[] } }

describe('GET /api/sessions/:name/export.har', () => {
  it('is a HAR download of every exchange, tokens written as <identity-N>, with the raw-body headers', async () => {
    const res = await app.inject({ url: '/api/sessions/example/export.har', headers: bearer() })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toBe('attachment; filename="example.har"')
    expect(res.headers['cache-control']).toBe('no-store')
    expect(res.headers['x-content-type-options']).toBe('nosniff')
    expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'")
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const har = res.json() as Har
    expect(har.log.creator.name).toBe('reltape')
    expect(har.log.entries.map((e) => e._reltape.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(res.body).not.toContain(TOKEN)
    expect(res.body).toContain('<identity-1>')
  })

  it('holds the live tokens with reveal=1, under another file name', async () => {
    const res = await app.inject({ url: '/api/sessions/example/export.har?reveal=1', headers: bearer() })
    expect(res.statusCode).toBe(200)
    expect(res.headers['content-disposition']).toBe('attachment; filename="example.with-tokens.har"')
    expect(res.body).toContain(TOKEN)
    expect((res.json() as Har).log.entries).toHaveLength(11)
  })

  it('asks for the token, in the header or the query, and refuses unknown sessions and bad names as JSON', async () => {
    expect((await app.inject({ url: '/api/sessions/example/export.har' })).statusCode).toBe(401)
    expect((await app.inject({ url: `/api/sessions/example/export.har?token=${'A'.repeat(43)}` })).statusCode).toBe(401)
    expect((await app.inject({ url: `/api/sessions/example/export.har?token=${TEST_TOKEN}` })).statusCode).toBe(200)
    const missing = await app.inject({ url: '/api/sessions/nope/export.har', headers: bearer() })
    expect(missing.statusCode).toBe(404)
    expect(missing.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' })
    expect((await app.inject({ url: '/api/sessions/..%2Fx/export.har', headers: bearer() })).statusCode).toBe(400)
    expect((await app.inject({ url: '/api/sessions/example/export.har?reveal=yes', headers: bearer() })).statusCode).toBe(400)
  })
})

describe('import warnings on the session', () => {
  it('are kept in a private sidecar by `reltape import` and served with the session', async () => {
    expect((await stat(importNotesPath(dir, 'from-har'))).mode & 0o777).toBe(0o600)
    const res = await app.inject({ url: '/api/sessions/from-har', headers: bearer() })
    const body = res.json() as { importWarnings?: string[] }
    expect(body.importWarnings).toEqual([
      'log.entries[0].request.postData: no content (51200 bytes declared); stored as omitted',
      'log.entries[1].response.content: no content (65536 bytes declared); stored as omitted',
    ])
    // The listing does not show the sidecar as a session.
    const list = (await app.inject({ url: '/api/sessions', headers: bearer() })).json() as { name: string }[]
    expect(list.map((s) => s.name)).toEqual(['clean', 'empty', 'example', 'from-har', 'invalid', 'truncated'])
  })

  it('are absent for a session imported without warnings and for a recorded one', async () => {
    for (const name of ['clean', 'example']) {
      const body = (await app.inject({ url: `/api/sessions/${name}`, headers: bearer() })).json() as Record<string, unknown>
      expect(body).not.toHaveProperty('importWarnings')
      expect(body).toHaveProperty('summary')
    }
  })
})
