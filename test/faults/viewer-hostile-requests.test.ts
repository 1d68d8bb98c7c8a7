/** Recorded content stays data: raw bodies cannot run on the viewer's origin; the Host check stops DNS rebinding. */
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Exchange } from '../../model/session.js'
import { hostAllowed } from '../../viewer/security.js'
import { buildViewerApp } from '../../viewer/server.js'
import { bearer, TEST_TOKEN } from '../helpers/viewer-token.js'

const FIXTURES = new URL('../fixtures/viewer/sessions/', import.meta.url)
let dir: string
let app: FastifyInstance

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-sec-'))
  await cp(FIXTURES, dir, { recursive: true })
  app = await buildViewerApp({ dir, config: {}, uiDir: join(dir, 'no-ui'), token: TEST_TOKEN })
})
afterAll(async () => {
  await app?.close()
  await rm(dir, { recursive: true, force: true })
})

const raw = (seq: number, side: string, query = '') => app.inject({ url: `/api/sessions/example/exchanges/${seq}/raw/${side}${query}`, headers: bearer() })

describe('raw bodies', () => {
  it('serves a PNG inline for previews only when asked, with a sandboxing CSP and nosniff', async () => {
    const inline = await raw(4, 'response', '?inline=1')
    expect(inline.statusCode).toBe(200)
    expect(inline.headers['content-type']).toBe('image/png')
    expect(inline.headers['content-disposition']).toBe('inline; filename="example-4-response.png"')
    expect(inline.headers['content-security-policy']).toBe("sandbox; default-src 'none'")
    expect(inline.headers['x-content-type-options']).toBe('nosniff')
    expect(inline.rawPayload.subarray(1, 4).toString('latin1')).toBe('PNG')
    expect(inline.rawPayload.length).toBe(70)
    const download = await raw(4, 'response')
    expect(download.headers['content-disposition']).toMatch(/^attachment; filename="example-4-response\.png"$/)
  })

  it('never serves recorded HTML or SVG inline, even when asked', async () => {
    for (const seq of [6, 7]) {
      const res = await raw(seq, 'response', '?inline=1')
      expect(res.statusCode).toBe(200)
      expect(res.headers['content-disposition']).toMatch(/^attachment; /)
      expect(res.headers['content-security-policy']).toBe("sandbox; default-src 'none'")
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.body).toContain('<script>alert(1)</script>') // bytes intact, just inert
    }
  })

  it('serves request bodies, JSON as recorded, and a multipart rebuilt from its parts', async () => {
    const json = await raw(1, 'request')
    expect(JSON.parse(json.body)).toEqual({ LocalId: 1518171256447, Payload: 'text', Text: '!' })
    const multi = await raw(10, 'request')
    expect(multi.headers['content-type']).toBe('multipart/form-data; boundary=xyz')
    expect(multi.body).toContain('Content-Disposition: form-data; name="file"; filename="note.txt"')
    expect(multi.body).toContain('hello file')
    expect(multi.body.endsWith('--xyz--\r\n')).toBe(true)
  })

  it('says BODY_NOT_FOUND for a response that never came', async () => {
    const res = await raw(8, 'response')
    expect(res.statusCode).toBe(404)
    expect(res.json()).toMatchObject({ code: 'BODY_NOT_FOUND' })
    expect(res.json().message).toContain('UPSTREAM_UNREACHABLE')
  })

  it('refuses a side other than request or response', async () => {
    expect((await raw(1, 'secrets')).statusCode).toBe(400)
  })
})

describe('headers on every answer', () => {
  it('sends a strict CSP, nosniff and no-referrer with API answers and errors', async () => {
    for (const url of ['/api/sessions', '/api/sessions/nope', '/']) {
      const res = await app.inject({ url, headers: bearer() })
      expect(res.headers['content-security-policy'], url).toContain("script-src 'self'")
      expect(res.headers['content-security-policy'], url).toContain("frame-ancestors 'none'")
      expect(res.headers['content-security-policy'], url).not.toContain('unsafe-eval')
      expect(res.headers['x-content-type-options']).toBe('nosniff')
      expect(res.headers['referrer-policy']).toBe('no-referrer')
    }
  })

  it('keeps recorded markup inside JSON strings (application/json, never HTML)', async () => {
    const res = await app.inject({ url: '/api/sessions/example/exchanges/5', headers: bearer() })
    expect(res.headers['content-type']).toMatch(/^application\/json/)
    const e = res.json() as Exchange
    expect((e.response?.body as { json: { Result: { Text: string } } }).json.Result.Text).toBe('<img src=x onerror=alert(1)><script>alert(1)</script>')
  })
})

describe('Host check against DNS rebinding', () => {
  it('answers loopback names and refuses any other Host with 421 HOST_NOT_ALLOWED', async () => {
    for (const host of ['localhost:4000', '127.0.0.1:4000', '[::1]:4000', 'LOCALHOST'])
      expect((await app.inject({ url: '/api/sessions', headers: { host, ...bearer() } })).statusCode, host).toBe(200)
    for (const host of ['evil.example:4000', 'localhost.evil.example', '127.0.0.1.nip.io:4000', '10.0.0.5:4000']) {
      const res = await app.inject({ url: '/api/sessions', headers: { host, ...bearer() } })
      expect(res.statusCode, host).toBe(421)
      expect(res.json()).toMatchObject({ code: 'HOST_NOT_ALLOWED' })
    }
  })

  it('accepts the configured host, and IP literals only when bound to a wildcard address', () => {
    expect(hostAllowed('viewer.lan:4000', 'viewer.lan')).toBe(true)
    expect(hostAllowed('viewer.lan:4000', '127.0.0.1')).toBe(false)
    expect(hostAllowed('192.168.1.9:4000', '0.0.0.0')).toBe(true)
    expect(hostAllowed('attacker.example', '0.0.0.0')).toBe(false)
    expect(hostAllowed(undefined, '127.0.0.1')).toBe(false)
  })
})
