import { afterEach, describe, expect, it } from 'vitest'
import type { FastifyInstance } from 'fastify'
import { buildSandboxApp, chooseEncoding, OPERATOR_USER_ID, SANDBOX_TOKENS } from '../sandbox/index.js'

type Envelope = { OK: boolean; Error: { Code: string } | null; Result: unknown; Rels?: Record<string, Array<Record<string, unknown>>> }

describe('sandbox app, through inject() (no network)', () => {
  const apps: FastifyInstance[] = []
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close()
  })
  function app(): FastifyInstance {
    const a = buildSandboxApp()
    apps.push(a)
    return a
  }
  async function call(a: FastifyInstance, method: string, body: unknown, role: 'customer' | 'operator' = 'customer'): Promise<Envelope> {
    const res = await a.inject({
      method: 'POST',
      url: `/public/api/v1/${method}`,
      headers: { 'content-type': 'application/json', authorization: `Client ${SANDBOX_TOKENS[role]}` },
      payload: JSON.stringify(body),
    })
    return res.json<Envelope>()
  }

  it('tokens have the API shape <40 hex>.<32 hex> and differ', () => {
    for (const t of Object.values(SANDBOX_TOKENS)) expect(t).toMatch(/^[0-9a-f]{40}\.[0-9a-f]{32}$/)
    expect(SANDBOX_TOKENS.customer).not.toBe(SANDBOX_TOKENS.operator)
  })

  it('two fresh sandboxes hand out the same ids for the same calls', async () => {
    const ids = async () => {
      const a = app()
      const first = await call(a, 'chats/channel/send/support', { LocalId: 1, Text: 'a' })
      const second = await call(a, 'chats/channel/send/support', { LocalId: 2, Text: 'b' }, 'operator')
      return [...(first.Result as Array<{ Id: number; EventId: number }>), ...(second.Result as Array<{ Id: number; EventId: number }>)].map((m) => [m.Id, m.EventId])
    }
    const one = await ids()
    expect(one).toEqual([[252, 1649], [253, 1650], [254, 1651]])
    expect(await ids()).toEqual(one)
  })

  it('the customer\'s first message opens a ticket (a system notice); later ones do not', async () => {
    const a = app()
    const first = await call(a, 'chats/channel/send/support', { LocalId: 1, Text: 'a' })
    expect((first.Result as Array<{ Author: string }>).map((m) => m.Author)).toEqual(['client', 'system'])
    const again = await call(a, 'chats/channel/send/support', { LocalId: 2, Text: 'b' })
    expect((again.Result as Array<{ Author: string }>).map((m) => m.Author)).toEqual(['client'])
  })

  it('an operator message is the operator\'s (My) and brings the operator and their avatar into Rels', async () => {
    const a = app()
    const sent = await call(a, 'chats/channel/send/support', { LocalId: 9, Text: 'hi' }, 'operator')
    expect(sent.Result).toEqual([expect.objectContaining({ Author: 'user', UserId: OPERATOR_USER_ID, ClientId: null, My: true, LocalId: 9 })])
    const operator = sent.Rels!.Users!.find((u) => u.Id === OPERATOR_USER_ID)!
    expect(sent.Rels!.Files!.map((f) => f.Id)).toContain(operator.AvatarId)
  })

  it('history honours Limit and is empty for another chat', async () => {
    const a = app()
    for (let i = 0; i < 4; i++) await call(a, 'chats/channel/send/support', { LocalId: i, Text: `m${i}` })
    const two = await call(a, 'chats/history', { ChatId: 10, Limit: 2 })
    expect((two.Result as Array<{ Text: string }>).map((m) => m.Text)).toEqual(['m2', 'm3'])
    expect((await call(a, 'chats/history', { ChatId: 99 })).Result).toEqual([])
  })

  it('an upload that is not multipart is refused with an envelope', async () => {
    expect(await call(app(), 'files/upload', { Name: 'x' })).toMatchObject({ OK: false, Error: { Code: 'BadRequest' } })
  })

  it('reads a JSON body sent with a form content type (curl -d) as JSON', async () => {
    const res = await app().inject({
      method: 'POST',
      url: '/public/api/v1/clients/get',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `client-session=${SANDBOX_TOKENS.operator}` },
      payload: '{"Id":12}',
    })
    expect(res.json()).toMatchObject({ OK: true, Result: { Id: 12, ManagerUserId: OPERATOR_USER_ID } })
  })

  it('answers a preflight for any API path with 204, CORS headers and no caching of the preflight', async () => {
    const res = await app().inject({ method: 'OPTIONS', url: '/public/api/v1/files/upload', headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' } })
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('http://localhost:3000')
    expect(res.headers['access-control-max-age']).toBeUndefined()
  })

  it('chooses gzip, then br, then identity from Accept-Encoding', () => {
    expect(chooseEncoding('gzip, deflate, br')).toBe('gzip')
    expect(chooseEncoding('br')).toBe('br')
    expect(chooseEncoding('br;q=1.0, gzip;q=0')).toBe('br')
    expect(chooseEncoding('*')).toBe('gzip')
    expect(chooseEncoding('deflate')).toBe('identity')
    expect(chooseEncoding(undefined)).toBe('identity')
  })
})
