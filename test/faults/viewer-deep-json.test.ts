/**
 * A tester opens, in the viewer, a session holding deeply nested JSON bodies (8,000 and 100,000 levels): the list
 * and every exchange open, and a body nested past MAX_JSON_DEPTH reaches the UI as text with a note, however it was
 * stored, never as a tree deeper than the limit. A body the session cannot write back out is named by file and
 * exchange when downloaded.
 */
import { rm } from 'node:fs/promises'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../model/json-depth.js'
import type { Body, Exchange } from '../../model/session.js'
import type { ExchangePage } from '../../model/summary.js'
import { buildViewerApp } from '../../viewer/server.js'
import { DEEP_PATHS, DEEP_REQUEST_TEXT, DEEP_RESPONSE_TEXT, deepText, PARSED_RESPONSE_TEXT, writeDeepSession } from '../helpers/deep-session.js'
import { tempDir } from '../helpers/exchange-factory.js'
import { bearer, TEST_TOKEN } from '../helpers/viewer-token.js'

let dir: string
let file: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await tempDir('reltape-deep-view-')
  file = await writeDeepSession(dir)
  app = await buildViewerApp({ dir, uiDir: `${dir}/no-ui`, config: {}, token: TEST_TOKEN })
})

afterAll(async () => {
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

const get = (url: string) => app.inject({ method: 'GET', url, headers: { host: '127.0.0.1:4000', ...bearer() } })

async function exchange(seq: number): Promise<Exchange> {
  const res = await get(`/api/sessions/deep/exchanges/${seq}`)
  expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
  return res.json<Exchange>()
}

type Shown = Body & { tooDeep?: true; note?: string }
const NOTE = `JSON nested deeper than ${MAX_JSON_DEPTH} levels: shown as text`

describe('deeply nested JSON in the viewer', () => {
  it('lists the session, with the exchange whose envelope Error is 8,000 levels deep as an error', async () => {
    const res = await get('/api/sessions/deep/exchanges')
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200)
    const page = res.json<ExchangePage>()
    expect(page.items.map((r) => r.path)).toEqual(Object.values(DEEP_PATHS))
    expect(page.items[4]).toMatchObject({ ok: false, errorCode: 'Error' })
  })

  it('shows bodies past the limit as text with a note, whether stored as text or parsed', async () => {
    const request = (await exchange(1)).request.body as Shown
    expect(request).toMatchObject({ kind: 'text', text: DEEP_REQUEST_TEXT, tooDeep: true, note: NOTE })
    const response = (await exchange(2)).response!.body as Shown
    expect(response).toMatchObject({ kind: 'text', text: DEEP_RESPONSE_TEXT, tooDeep: true, note: NOTE })
    const parsed = (await exchange(3)).response!.body as Shown
    expect(parsed).toMatchObject({ kind: 'text', text: PARSED_RESPONSE_TEXT, tooDeep: true, note: NOTE })
  })

  it('a body exactly at the limit stays a tree', async () => {
    const body = (await exchange(6)).response!.body
    expect(body.kind).toBe('json')
    expect(body.kind === 'json' && exceedsJsonDepth(body.json)).toBe(false)
    expect(body.kind === 'json' && JSON.stringify(body.json)).toBe(deepText(MAX_JSON_DEPTH))
  })

  it('a body held parsed and too deep to write out: the exchange opens with a note, its download names the file and exchange', async () => {
    const shown = (await exchange(4)).response!.body as Shown
    expect(shown).toMatchObject({ kind: 'text', text: '', tooDeep: true, note: `${NOTE}, but the session holds no text of it to show` })
    const error = (await exchange(5)).response!.body as Shown
    expect(error).toMatchObject({ kind: 'text', tooDeep: true })

    const raw = await get('/api/sessions/deep/exchanges/4/raw/response')
    expect(raw.statusCode).toBe(422)
    expect(raw.json()).toMatchObject({
      code: 'SESSION_INVALID',
      message: `${file}: exchange #4 response.body.json: JSON nested deeper than ${MAX_JSON_DEPTH} levels, stored without its text: it cannot be written back out (store it as text)`,
    })
    // A deep body stored as text downloads as recorded.
    const text = await get('/api/sessions/deep/exchanges/2/raw/response')
    expect(text.statusCode).toBe(200)
    expect(text.body).toBe(DEEP_RESPONSE_TEXT)
  })
})
