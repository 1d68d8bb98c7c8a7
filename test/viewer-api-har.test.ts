/**
 * A HAR saved by DevTools, dropped into the sessions directory, is listed and opened in the viewer like a session,
 * read-only: neither the HAR nor the directory changes.
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ExchangePage, SessionSummary } from '../model/summary.js'
import { buildViewerApp } from '../viewer/server.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'

const har = join(import.meta.dirname, 'fixtures', 'har', 'chrome-devtools.har')
let dir: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-har-'))
  copyFileSync(har, join(dir, 'from-chrome.har'))
  copyFileSync(join(import.meta.dirname, '..', 'sessions', 'sample-support-chat.json'), join(dir, 'sample.json'))
  app = await buildViewerApp({ dir, config: {}, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
})
afterAll(async () => {
  await app?.close()
})

const get = async <T>(url: string) => {
  const res = await app.inject({ url, headers: bearer() })
  expect(res.statusCode, url).toBe(200)
  return res.json() as T
}

describe('a HAR in the sessions directory', () => {
  it('is listed beside the sessions, and its calls page and open like a session\'s', async () => {
    const list = await get<SessionSummary[]>('/api/sessions')
    const entry = list.find((s) => s.name === 'from-chrome.har')!
    expect(entry).toBeDefined()
    expect(entry.invalid).toBeUndefined()
    expect(entry.file).toBe(join(dir, 'from-chrome.har'))
    expect(entry.exchanges).toBeGreaterThan(0)
    expect(list.map((s) => s.name)).toContain('sample')
    const page = await get<ExchangePage>('/api/sessions/from-chrome.har/exchanges')
    expect(page.total).toBe(entry.exchanges)
    const first = await get<{ seq: number; request: { url: string } }>(`/api/sessions/from-chrome.har/exchanges/${page.items[0]!.seq}`)
    expect(first.request.url).toMatch(/^https?:\/\//)
    // Read-only: the HAR keeps its bytes, and nothing was written beside it.
    expect(readFileSync(join(dir, 'from-chrome.har')).equals(readFileSync(har))).toBe(true)
    // (the sample session's own index cache is the only new file)
    expect(readdirSync(dir).filter((f) => !f.startsWith('.sample.')).sort()).toEqual(['from-chrome.har', 'sample.json'])
  })
})
