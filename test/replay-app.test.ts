/** The replay app through fastify's inject(): rules that need no real socket. */
import { afterEach, describe, expect, it } from 'vitest'
import { buildReplayApp, type ReplayApp } from '../replay/app.js'
import type { Session } from '../model/session.js'
import { chatStory, PATHS } from './fixtures/replay/helpers.js'

let built: ReplayApp | null = null
afterEach(async () => {
  await built?.app.close()
  built = null
})

async function build(session: Session, rules: Parameters<typeof buildReplayApp>[1] = {}): Promise<ReplayApp> {
  built = await buildReplayApp(session, rules)
  return built
}

const json = (payload: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify(payload),
})

describe('replay app (inject)', () => {
  it('with latency "recorded", an answer waits the recorded duration; by default it does not', async () => {
    const session = chatStory()
    const { replayer } = await build(session, { latency: 'recorded' })
    const answer = await replayer.answer({
      method: 'POST',
      url: PATHS.send,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ LocalId: 1, Payload: 'text', Text: '!' })),
    })
    expect(answer.delayMs).toBe(session.exchanges[2]!.durationMs)
    await built!.app.close()
    const plain = await build(chatStory())
    const again = await plain.replayer.answer({
      method: 'POST',
      url: PATHS.send,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ LocalId: 1, Payload: 'text', Text: '!' })),
    })
    expect(again.delayMs).toBe(0)
  })

  it('with --match-host, the host the client addressed is part of the key', async () => {
    const { app } = await build(chatStory(), { matchHost: true })
    const hit = await app.inject({ url: PATHS.history, ...json({ ChatId: 10 }, { host: 'api.example.test' }) })
    expect(hit.statusCode).toBe(200)
    const miss = await app.inject({ url: PATHS.history, ...json({ ChatId: 10 }, { host: 'localhost:9999' }) })
    expect(miss.statusCode).toBe(404)
    expect(miss.json<{ Error: { Message: string } }>().Error.Message).toContain('differs in host (localhost:9999, recorded api.example.test)')
  })

  it('ignores extra fields given with --ignore-field (dotted paths), and echoes a dotted echo field', async () => {
    const session = chatStory()
    const send = session.exchanges[2]!
    send.request.body = { kind: 'json', json: { Message: { LocalId: 77, Text: '!' }, SentAt: 1 }, contentType: 'application/json', size: 50 }
    send.response!.body = { kind: 'json', json: { OK: true, Error: null, Result: { Id: 1, LocalId: 77 } }, contentType: 'application/json', size: 50 }
    const { app } = await build(session, { ignoreFields: ['Message.LocalId', 'SentAt'], echoFields: ['Message.LocalId'] })
    const res = await app.inject({ url: PATHS.send, ...json({ SentAt: 2, Message: { Text: '!', LocalId: 9001 } }) })
    expect(res.statusCode).toBe(200)
    expect(res.body).toBe('{"OK":true,"Error":null,"Result":{"Id":1,"LocalId":9001}}')
  })

  it('matches a recorded body that is not valid JSON under a JSON content type by its bytes', async () => {
    const session = chatStory()
    const send = session.exchanges[2]!
    send.request.body = { kind: 'text', text: '{"LocalId": 1, "Text": ', contentType: 'application/json', size: 23 }
    const { app } = await build(session)
    const hit = await app.inject({ method: 'POST', url: PATHS.send, headers: { 'content-type': 'application/json' }, payload: '{"LocalId": 1, "Text": ' })
    expect(hit.statusCode).toBe(200)
    const miss = await app.inject({ method: 'POST', url: PATHS.send, headers: { 'content-type': 'application/json' }, payload: '{"LocalId": 2, "Text": ' })
    expect(miss.statusCode).toBe(404)
    expect(miss.json<{ Error: { Message: string } }>().Error.Message).toContain('body: has other bytes (23 bytes, the recording\'s 23)')
  })

  it('keeps the recorded status text, and adds no content type the recording did not have', async () => {
    const session = chatStory()
    const res0 = session.exchanges[0]!.response!
    res0.statusText = 'Fine Thanks'
    res0.headers = res0.headers.filter(([n]) => n.toLowerCase() !== 'content-type')
    const { app } = await build(session)
    const res = await app.inject({ url: PATHS.history, ...json({ ChatId: 10 }) })
    expect(res.statusMessage).toBe('Fine Thanks')
    expect(res.headers['content-type']).toBeUndefined()
    expect(res.headers['content-length']).toBe(String(res.rawPayload.length))
  })

  it('answers an exchange recorded as a transport failure with a 502 that says so', async () => {
    const session = chatStory()
    const failed = session.exchanges[6]!
    failed.response = null
    failed.error = { code: 'UPSTREAM_UNREACHABLE', message: 'connect ECONNREFUSED 127.0.0.1:443' }
    const { app } = await build(session)
    const res = await app.inject({ url: PATHS.close, ...json({ TicketId: 999 }) })
    expect(res.statusCode).toBe(502)
    expect(res.headers['x-reltape']).toBe('recorded-error')
    expect(res.json<{ Error: { Message: string } }>().Error.Message).toContain('exchange #7 was recorded as a failure: UPSTREAM_UNREACHABLE')
  })

  it('warns at load about bodies the recorder cut, and serves what there is', async () => {
    const session = chatStory()
    const body = session.exchanges[4]!.response!.body
    body.truncated = true
    const lines: string[] = []
    const { app } = await build(session, { log: (l) => lines.push(l) })
    expect(lines).toContain(`WARN exchange #5 (POST ${PATHS.download}) has a body cut by the recorder: it is served as far as it was recorded`)
    const res = await app.inject({ url: PATHS.download, ...json({ FileId: 'e83220a3-56cb-11e7-b21f-6109cf735b0f.png' }) })
    expect(res.rawPayload.equals(Buffer.from(body.kind === 'bytes' ? body.base64 : '', 'base64'))).toBe(true)
  })

  it('answers a preflight from the recorded CORS headers of the path when no preflight was recorded, echoing the Origin', async () => {
    const { app } = await build(chatStory())
    const res = await app.inject({
      method: 'OPTIONS',
      url: PATHS.history,
      headers: { origin: 'http://127.0.0.1:5173', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    })
    expect(res.statusCode).toBe(204)
    expect(res.headers['access-control-allow-origin']).toBe('http://127.0.0.1:5173')
    expect(res.headers['access-control-allow-credentials']).toBe('true')
    expect(res.headers['access-control-allow-methods']).toBe('GET, HEAD, POST, OPTIONS')
  })

  it('a preflight with no recorded CORS headers anywhere is a miss', async () => {
    const session = chatStory()
    for (const e of session.exchanges) if (e.response) e.response.headers = e.response.headers.filter(([n]) => !/^access-control-/i.test(n))
    session.exchanges = session.exchanges.filter((e) => e.request.method !== 'OPTIONS')
    const { app, replayer } = await build(session)
    const res = await app.inject({ method: 'OPTIONS', url: PATHS.history, headers: { origin: 'http://x.test', 'access-control-request-method': 'POST' } })
    expect(res.statusCode).toBe(404)
    expect(res.headers['x-reltape']).toBe('miss')
    expect(replayer.misses[0]?.reason).toBe('no-cors')
  })
})
