/** The built UI is served at `/` with the viewer's strict headers. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildViewerApp, defaultUiDir } from '../viewer/server.js'

let root: string
let app: FastifyInstance

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reltape-viewer-static-'))
  await mkdir(join(root, 'ui', 'assets'), { recursive: true })
  await mkdir(join(root, 'sessions'))
  await writeFile(join(root, 'ui', 'index.html'), '<!doctype html><title>reltape viewer</title><script type="module" src="./assets/app.js"></script>')
  await writeFile(join(root, 'ui', 'assets', 'app.js'), 'console.log("ui")')
  app = await buildViewerApp({ dir: join(root, 'sessions'), uiDir: join(root, 'ui'), config: {} })
})
afterAll(async () => {
  await app?.close()
  await rm(root, { recursive: true, force: true })
})

describe('static UI', () => {
  it('serves index.html at / and its assets, with the strict CSP', async () => {
    const index = await app.inject({ url: '/' })
    expect(index.statusCode).toBe(200)
    expect(index.headers['content-type']).toMatch(/^text\/html/)
    expect(index.body).toContain('<title>reltape viewer</title>')
    expect(index.headers['content-security-policy']).toContain("default-src 'self'")
    const js = await app.inject({ url: '/assets/app.js' })
    expect(js.statusCode).toBe(200)
    expect(js.headers['content-type']).toMatch(/javascript/)
  })

  it('keeps API 404s as JSON next to the static files, and serves nothing outside the UI folder', async () => {
    const api = await app.inject({ url: '/api/nothing' })
    expect(api.statusCode).toBe(404)
    expect(api.json()).toMatchObject({ code: 'NOT_FOUND' })
    const escape = await app.inject({ url: '/..%2Fsessions' })
    expect(escape.statusCode).toBe(404)
  })

  it('finds dist/ui from the source tree as well as from dist/viewer', () => {
    expect(defaultUiDir()).toMatch(/dist\/ui\/$/)
  })
})
