import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import { FormData, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AVATAR_FILE_ID, PNG_SIGNATURE, SANDBOX_TOKENS, TEXT_FILE_ID } from '../sandbox/index.js'
import { post, startSandboxEnv, type Raw, type SandboxEnv } from './helpers/sandbox-env.js'

type Envelope = { OK: boolean; Error: { Code: string; Message: string } | null; Result: unknown; Rels?: Record<string, Array<Record<string, unknown>>> }

const asCustomer = { cookie: `client-session=${SANDBOX_TOKENS.customer}` }
const asOperator = { authorization: `Client ${SANDBOX_TOKENS.operator}` }

function envelopeOf(raw: Raw): Envelope {
  const enc = raw.headers['content-encoding']
  const bytes = enc === 'gzip' ? gunzipSync(raw.body) : enc === 'br' ? brotliDecompressSync(raw.body) : raw.body
  return JSON.parse(bytes.toString('utf8')) as Envelope
}

describe('sandbox API over real HTTPS (client trusts reltape CA)', () => {
  let env: SandboxEnv
  beforeAll(async () => {
    env = await startSandboxEnv()
  })
  afterAll(async () => {
    await env?.close()
  })

  it('serves https://localhost with a certificate from the CA, and an app page on another origin', () => {
    expect(env.sandbox.url).toBe(`https://localhost:${env.sandbox.port}`)
    expect(env.sandbox.appUrl).toMatch(/^http:\/\/localhost:\d+\/$/)
    expect(new URL(env.sandbox.appUrl).port).not.toBe(String(env.sandbox.port))
    expect(env.ca).toContain('BEGIN CERTIFICATE')
  })

  it('a customer sends a message: the envelope echoes LocalId and the history changes after it', async () => {
    const before = envelopeOf(await post(env, 'chats/history', { ChatId: 10 }, asCustomer))
    expect(before.OK).toBe(true)
    const countBefore = (before.Result as unknown[]).length

    const sent = envelopeOf(await post(env, 'chats/channel/send/support', { LocalId: 1518171256447, Payload: 'text', Text: '!' }, asCustomer))
    expect(sent.OK).toBe(true)
    expect(sent.Error).toBeNull()
    const [message] = sent.Result as Array<Record<string, unknown>>
    expect(message).toMatchObject({ LocalId: 1518171256447, Author: 'client', ClientId: 11, UserId: null, Text: '!', My: true, ChatId: 10 })
    expect(Object.keys(message!)).toEqual([
      'Id', 'ChatId', 'LocalId', 'EventId', 'TicketMessageId', 'Author', 'ClientId', 'UserId', 'Payload', 'Text',
      'Received', 'Read', 'Pushed', 'CreatedAt', 'ReceivedAt', 'ReadAt', 'My',
    ])
    // Rels: the client, its manager (whose ClientId points back: a cycle) and the manager's avatar file.
    const client = sent.Rels!.Clients!.find((c) => c.Id === 11)!
    const manager = sent.Rels!.Users!.find((u) => u.Id === client.ManagerUserId)!
    expect(manager.ClientId).toBe(11)
    expect(sent.Rels!.Files!.map((f) => f.Id)).toContain(manager.AvatarId)

    const after = envelopeOf(await post(env, 'chats/history', { ChatId: 10 }, asCustomer))
    const messages = after.Result as Array<Record<string, unknown>>
    expect(messages.length).toBeGreaterThan(countBefore)
    expect(messages.some((m) => m.LocalId === 1518171256447)).toBe(true)
  })

  it('the same token by cookie or by Authorization header is the same identity', async () => {
    const text = `same identity ${Math.random()}`
    await post(env, 'chats/channel/send/support', { LocalId: 1, Text: text }, { authorization: `Client ${SANDBOX_TOKENS.customer}` })
    const byCookie = envelopeOf(await post(env, 'chats/history', {}, asCustomer))
    const mine = (byCookie.Result as Array<Record<string, unknown>>).find((m) => m.Text === text)
    expect(mine).toMatchObject({ Author: 'client', My: true })
    // The operator sees the same message as not theirs.
    const byOperator = envelopeOf(await post(env, 'chats/history', {}, asOperator))
    expect((byOperator.Result as Array<Record<string, unknown>>).find((m) => m.Text === text)).toMatchObject({ My: false })
  })

  it('a missing or unknown token gets OK:false Unauthorized, still HTTP 200', async () => {
    const cases: Array<Record<string, string>> = [{}, { cookie: 'client-session=0000000000000000000000000000000000000000.00000000000000000000000000000000' }, { authorization: 'Client nope' }]
    for (const headers of cases) {
      const raw = await post(env, 'chats/history', {}, headers)
      expect(raw.status).toBe(200)
      const e = envelopeOf(raw)
      expect(e).toMatchObject({ OK: false, Result: null, Error: { Code: 'Unauthorized' } })
    }
  })

  it('gzip when accepted (chunked, no Content-Length), brotli when only br is, identity otherwise', async () => {
    const gz = await post(env, 'chats/history', {}, { ...asCustomer, 'accept-encoding': 'gzip, deflate, br' })
    expect(gz.headers['content-encoding']).toBe('gzip')
    expect(gz.headers['transfer-encoding']).toBe('chunked')
    expect(gz.headers['content-length']).toBeUndefined()
    expect(gz.headers.vary).toBe('Accept-Encoding')
    expect(envelopeOf(gz).OK).toBe(true)
    expect(() => JSON.parse(gz.body.toString('utf8'))).toThrow()

    const br = await post(env, 'chats/history', {}, { ...asCustomer, 'accept-encoding': 'br' })
    expect(br.headers['content-encoding']).toBe('br')
    expect(envelopeOf(br).OK).toBe(true)

    const refused = await post(env, 'chats/history', {}, { ...asCustomer, 'accept-encoding': 'gzip;q=0, identity' })
    expect(refused.headers['content-encoding']).toBeUndefined()
    expect(JSON.parse(refused.body.toString('utf8')).OK).toBe(true)
  })

  it('JSON answers carry the API headers and echo the Origin for CORS', async () => {
    const raw = await post(env, 'clients/get', { Id: 11 }, { ...asOperator, origin: 'http://dev.example.test' })
    expect(raw.headers).toMatchObject({
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'private, must-revalidate',
      pragma: 'no-cache',
      'access-control-allow-origin': 'http://dev.example.test',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
    })
    expect(String(raw.headers['access-control-allow-headers'])).toContain('Authorization')
    const e = envelopeOf(raw)
    expect(e.Result).toMatchObject({ Id: 11, ManagerUserId: 1 })
    expect(e.Rels!.Users!.map((u) => u.Id)).toContain(1)
  })

  it('answers an OPTIONS preflight without a token', async () => {
    const res = await request(`${env.sandbox.url}/public/api/v1/chats/channel/send/support`, {
      method: 'OPTIONS',
      dispatcher: env.agent,
      headers: { origin: 'http://app.example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    })
    await res.body.dump()
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('http://app.example.test')
    expect(res.headers['access-control-allow-credentials']).toBe('true')
    expect(String(res.headers['access-control-allow-headers'])).toMatch(/Authorization.*Content-Type/)
  })

  it('unknown client → NotFound; closing a ticket always fails', async () => {
    expect(envelopeOf(await post(env, 'clients/get', { Id: 999 }, asOperator))).toMatchObject({ OK: false, Error: { Code: 'NotFound' }, Result: null })
    expect(envelopeOf(await post(env, 'tickets/close', { Id: 1 }, asOperator))).toMatchObject({ OK: false, Error: { Code: 'TicketClosed' }, Result: null })
  })

  it('a multipart upload can be downloaded back byte for byte', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0x89, ...Buffer.from('binary ✓ payload')])
    const form = new FormData()
    form.append('ChatId', '10')
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'blob.bin')
    const up = await request(`${env.sandbox.url}/public/api/v1/files/upload`, { method: 'POST', dispatcher: env.agent, headers: asCustomer, body: form })
    const uploaded = envelopeOf({ status: up.statusCode, headers: up.headers, body: Buffer.from(await up.body.arrayBuffer()) })
    expect(uploaded.OK).toBe(true)
    const file = uploaded.Result as Record<string, unknown>
    expect(file).toMatchObject({ Name: 'blob.bin', Size: bytes.length, ContentType: 'application/octet-stream', OwnerClientId: 11 })
    expect(String(file.Id)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.bin$/)

    const down = await post(env, 'files/download', { Id: file.Id }, asOperator)
    expect(down.headers['content-type']).toBe('application/octet-stream')
    expect(down.body.equals(bytes)).toBe(true)
  })

  it('takes a 20 MB upload (within the body limit) and serves the same bytes back', async () => {
    const bytes = Buffer.alloc(20 * 1024 * 1024)
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251
    const form = new FormData()
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), 'big.bin')
    const up = await request(`${env.sandbox.url}/public/api/v1/files/upload`, { method: 'POST', dispatcher: env.agent, headers: asCustomer, body: form })
    const uploaded = envelopeOf({ status: up.statusCode, headers: up.headers, body: Buffer.from(await up.body.arrayBuffer()) })
    expect(uploaded).toMatchObject({ OK: true, Result: { Size: bytes.length, Name: 'big.bin' } })
    const down = await post(env, 'files/download', { Id: (uploaded.Result as { Id: string }).Id }, asCustomer)
    expect(down.body.length).toBe(bytes.length)
    expect(down.body.equals(bytes)).toBe(true)
  })

  it('downloads a real PNG and a UTF-8 text file; an unknown file id is an envelope error', async () => {
    const png = await post(env, 'files/download', { Id: AVATAR_FILE_ID }, asCustomer)
    expect(png.headers['content-type']).toBe('image/png')
    expect(png.headers['content-encoding']).toBeUndefined()
    expect(png.body.subarray(0, 8).equals(PNG_SIGNATURE)).toBe(true)
    expect(png.body.subarray(12, 16).toString('ascii')).toBe('IHDR')

    const text = await post(env, 'files/download', { Id: TEXT_FILE_ID }, asCustomer)
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8')
    expect(text.body.toString('utf8')).toContain('сбой')

    expect(envelopeOf(await post(env, 'files/download', { Id: 'nope.png' }, asCustomer))).toMatchObject({ OK: false, Error: { Code: 'NotFound' } })
  })

  it('debug methods: invalid JSON with a JSON content type, a big envelope, a bounded delay', async () => {
    const bad = await post(env, 'debug/invalid-json', {}, { ...asCustomer, 'accept-encoding': 'identity' })
    expect(bad.headers['content-type']).toBe('application/json; charset=utf-8')
    expect(() => JSON.parse(bad.body.toString('utf8'))).toThrow()

    const big = await post(env, 'debug/big', { Bytes: 200_000 }, { ...asCustomer, 'accept-encoding': 'identity' })
    expect(big.body.length).toBeGreaterThan(190_000)
    expect(big.body.length).toBeLessThanOrEqual(200_000)
    expect(JSON.parse(big.body.toString('utf8')).OK).toBe(true)

    expect(envelopeOf(await post(env, 'debug/delay', { Ms: 20 }, asCustomer))).toMatchObject({ OK: true, Result: { DelayedMs: 20 } })
  })

  it('a body that is not JSON gets an envelope error, an unknown method a 404 envelope', async () => {
    expect(envelopeOf(await post(env, 'chats/history', '{nope', asCustomer))).toMatchObject({ OK: false, Error: { Code: 'BadRequest' } })
    const missing = await post(env, 'no/such/method', {}, asCustomer)
    expect(missing.status).toBe(404)
    expect(envelopeOf(missing)).toMatchObject({ OK: false, Error: { Code: 'MethodNotFound' } })
  })
})
