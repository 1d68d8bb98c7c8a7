/** The viewer's JSON API over a sessions directory, through `inject()`. */
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import type { Exchange } from '../model/session.js'
import type { ExchangePage } from '../model/summary.js'
import { SessionReader, SessionStore, type SessionSummary } from '../store/store.js'
import { buildViewerApp } from '../viewer/server.js'
import { makeExchange } from './helpers/exchange-factory.js'
import { bearer, TEST_TOKEN } from './helpers/viewer-token.js'

const FIXTURES = new URL('./fixtures/viewer/sessions/', import.meta.url)
let dir: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-api-'))
  await cp(FIXTURES, dir, { recursive: true })
  app = await buildViewerApp({ dir, config: { rels: { AvatarId: 'Files' } }, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
})
afterAll(async () => {
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

async function get<T>(url: string, status = 200): Promise<T> {
  const res = await app.inject({ url, headers: bearer() })
  expect(res.statusCode, `${url}: ${res.body.slice(0, 300)}`).toBe(status)
  return res.json() as T
}

describe('sessions', () => {
  it('lists every session with its counts, and broken ones with their error instead of failing', async () => {
    const list = await get<SessionSummary[]>('/api/sessions')
    expect(list.map((s) => s.name)).toEqual(['empty', 'example', 'invalid', 'truncated'])
    const example = list.find((s) => s.name === 'example')
    expect(example).toMatchObject({ exchanges: 11, errors: 2, identities: 2 })
    expect(example?.invalid).toBeUndefined()
    expect(list.find((s) => s.name === 'invalid')?.invalid).toMatch(/invalid\.json: \$\.exchanges\[0\]\.seq: expected an integer/)
    expect(list.find((s) => s.name === 'truncated')?.invalid).toMatch(/truncated\.json: line \d+, column \d+: not valid JSON/)
  })

  it('gives one session without its exchanges', async () => {
    const body = await get<{ summary: SessionSummary; session: Record<string, unknown> }>('/api/sessions/example')
    expect(body.summary.exchanges).toBe(11)
    expect(Object.keys(body.session).sort()).toEqual(['createdAt', 'identities', 'name', 'recording'])
    expect(body.session.identities).toHaveLength(2)
  })

  it('answers stable error codes: not found, invalid, bad name', async () => {
    const missing = await get<{ code: string; message: string; statusCode: number }>('/api/sessions/nope', 404)
    expect(missing).toMatchObject({ statusCode: 404, code: 'SESSION_NOT_FOUND', error: 'Not Found' })
    expect(missing.message).toContain('example') // names what exists
    expect(await get('/api/sessions/invalid', 422)).toMatchObject({ code: 'SESSION_INVALID' })
    expect(await get('/api/sessions/invalid/exchanges', 422)).toMatchObject({ code: 'SESSION_INVALID' })
    for (const bad of ['..%2Fexample', 'a%2Fb', '.hidden', '..%5Cx'])
      expect(await get(`/api/sessions/${bad}/exchanges`, 400), bad).toMatchObject({ code: 'SESSION_NAME_INVALID' })
  })
})

describe('a session being recorded', () => {
  it('is described as of one moment: its summary and its head agree while the recorder writes', async () => {
    const own = await mkdtemp(join(tmpdir(), 'reltape-viewer-recording-'))
    const viewer = await buildViewerApp({ dir: own, config: {}, uiDir: join(own, 'no-ui'), token: TEST_TOKEN })
    const writer = await new SessionStore(own).open('rec', { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: () => {} })
    const look = SessionReader.prototype.refresh
    const refresh = vi.spyOn(SessionReader.prototype, 'refresh')
    try {
      writer.append(makeExchange(writer.nextSeq()))
      writer.flush()
      expect((await viewer.inject({ url: '/api/sessions/rec', headers: bearer() })).statusCode).toBe(200)
      // The recorder meets a new token and records a call just after the viewer's look at the disk for this request.
      refresh.mockImplementationOnce(async function (this: SessionReader) {
        const change = await look.call(this)
        writer.identityFor('0123456789abcdef0123456789abcdef')
        writer.append(makeExchange(writer.nextSeq()))
        writer.flush()
        return change
      })
      refresh.mockClear()
      const res = await viewer.inject({ url: '/api/sessions/rec', headers: bearer() })
      const body = res.json<{ summary: SessionSummary; session: { identities: unknown[] } }>()
      expect(body.summary.identities).toBe(body.session.identities.length)
      expect(refresh).toHaveBeenCalledTimes(1)
      // The next request sees both.
      const next = (await viewer.inject({ url: '/api/sessions/rec', headers: bearer() })).json<{ summary: SessionSummary; session: { identities: unknown[] } }>()
      expect(next.summary).toMatchObject({ exchanges: 2, identities: 1 })
      expect(next.session.identities).toHaveLength(1)
    } finally {
      refresh.mockRestore()
      await writer.close()
      await viewer.close()
      await rm(own, { recursive: true, force: true })
    }
  })
})

describe('exchange pages', () => {
  it('pages the summaries: OK and Error from the envelope, transport errors, identity, Rels types', async () => {
    const page = await get<ExchangePage>('/api/sessions/example/exchanges?offset=0&limit=200')
    expect(page.total).toBe(11)
    expect(page.items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    const [first, second, third] = page.items
    expect(first).toMatchObject({ method: 'POST', path: '/public/api/v1/chats/channel/send/support', host: 'dev.iqstore.ru', status: 200, ok: true, errorCode: null, identity: 'identity-1', resultCount: 3, relsTypes: ['Clients', 'Files', 'Users'] })
    expect(second?.identity).toBe('identity-2')
    expect(third).toMatchObject({ ok: false, errorCode: 'ACCESS_DENIED', status: 200 })
    expect(page.items[7]).toMatchObject({ status: null, ok: null, transportError: 'UPSTREAM_UNREACHABLE' })
    expect(page.items[8]).toMatchObject({ ok: null, resultCount: null, responseSize: 5000000 }) // truncated, not JSON
    expect(page.items[3]).toMatchObject({ method: 'GET', contentType: 'image/png', ok: null })
    expect(page.items[10]).toMatchObject({ path: '/health', ok: null, relsTypes: [] })
  })

  it('honours offset and limit, and refuses a limit over 1000', async () => {
    const page = await get<ExchangePage>('/api/sessions/example/exchanges?offset=9&limit=5')
    expect(page).toMatchObject({ total: 11, offset: 9 })
    expect(page.items.map((i) => i.seq)).toEqual([10, 11])
    expect(await get('/api/sessions/example/exchanges?limit=1001', 400)).toMatchObject({ statusCode: 400 })
    expect(await get('/api/sessions/example/exchanges?offset=-1', 400)).toMatchObject({ statusCode: 400 })
  })

  it('gives one exchange in full, and EXCHANGE_NOT_FOUND past the end', async () => {
    const e = await get<Exchange>('/api/sessions/example/exchanges/2')
    expect(e.id).toBe('fixture-002')
    expect(e.response?.body.kind).toBe('json')
    expect(await get('/api/sessions/example/exchanges/99', 404)).toMatchObject({ code: 'EXCHANGE_NOT_FOUND' })
    expect(await get('/api/sessions/example/exchanges/abc', 400)).toMatchObject({ statusCode: 400 })
  })

  it('shows a session being written from its journal alone', async () => {
    const journal = join(dir, 'only-journal.journal')
    const exchange = await get<Exchange>('/api/sessions/example/exchanges/1')
    await writeFile(journal, JSON.stringify({ t: 'exchange', exchange }) + '\n' + '{"t":"exchange","exch', { mode: 0o600 })
    const page = await get<ExchangePage>('/api/sessions/only-journal/exchanges')
    expect(page.items.map((i) => i.id)).toEqual(['fixture-001']) // the half-written line waits for its end
  })
})

describe('config and UI', () => {
  it('serves the Rels override table', async () => {
    expect(await get('/api/config')).toEqual({ rels: { AvatarId: 'Files' } })
  })

  it('says clearly that the UI is not built when dist/ui is missing', async () => {
    const res = await app.inject({ url: '/' })
    expect(res.statusCode).toBe(503)
    expect(res.body).toContain('UI not built: run npm run build')
  })

  it('answers unknown API paths with a JSON 404', async () => {
    expect(await get('/api/whatever', 404)).toMatchObject({ code: 'NOT_FOUND' })
  })
})
