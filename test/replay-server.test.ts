import { connect } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { startReplay, type ReplayHandle, type ReplayOptions } from '../replay/start-replay.js'
import { chatStory, expectedBytes, PATHS, postJson, recordedJson, TOKEN } from './fixtures/replay/helpers.js'

type MissEnvelope = {
  OK: false
  Error: { Code: string; Message: string; Nearest: { Seq: number; Method: string; Path: string; Differs: string[] } | null }
  Result: null
}

let replay: ReplayHandle | null = null
afterEach(async () => {
  await replay?.close()
  replay = null
})

async function start(options: Partial<ReplayOptions> = {}): Promise<ReplayHandle> {
  replay = await startReplay({ session: chatStory(), ...options })
  return replay
}

describe('replaying the chat story', () => {
  it('serves every recording byte for byte, with status, status text and headers as recorded', async () => {
    const session = chatStory()
    const r = await start()
    expect(r.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    for (const e of session.exchanges) {
      if (e.request.method !== 'POST' || e.request.body.kind !== 'json') continue
      const res = await postJson(r.url, new URL(e.request.url).pathname, recordedJson(e))
      const body = Buffer.from(await res.arrayBuffer())
      const want = expectedBytes(e.response!.body)
      expect(body.equals(want), `#${e.seq} body`).toBe(true)
      expect(res.status).toBe(e.response!.status)
      expect(res.statusText).toBe(e.response!.statusText)
      // Length and encoding are recomputed for the decoded body served; hop-by-hop headers are dropped.
      expect(res.headers.get('content-length')).toBe(String(want.length))
      expect(res.headers.get('content-encoding')).toBeNull()
      expect(res.headers.get('transfer-encoding')).toBeNull()
      for (const [name, value] of e.response!.headers) {
        if (/^(content-length|content-encoding|transfer-encoding|connection|keep-alive)$/i.test(name)) continue
        expect(res.headers.get(name), `#${e.seq} header ${name}`).toBe(value)
      }
    }
    expect(r.misses).toEqual([])
  })

  it('answers the same request sent twice with the first and then the second recording (history before and after a send)', async () => {
    const r = await start()
    const before = (await (await postJson(r.url, PATHS.history, { ChatId: 10 })).json()) as { Result: Array<{ Id: number }> }
    const after = (await (await postJson(r.url, PATHS.history, { ChatId: 10 })).json()) as { Result: Array<{ Id: number }> }
    expect(before.Result.map((m) => m.Id)).toEqual([252])
    expect(after.Result.map((m) => m.Id)).toEqual([252, 255])
    // Recordings ran out: the last one answers again (not the first, not the real server).
    const third = (await (await postJson(r.url, PATHS.history, { ChatId: 10 })).json()) as { Result: Array<{ Id: number }> }
    expect(third.Result.map((m) => m.Id)).toEqual([252, 255])
    expect(r.misses).toEqual([])
  })

  it('matches a send with a new LocalId and echoes the live LocalId in the answer', async () => {
    const r = await start()
    const res = await postJson(r.url, PATHS.send, { Text: '!', LocalId: 1764000000123, Payload: 'text' })
    expect(res.status).toBe(200)
    const text = await res.text()
    const body = JSON.parse(text) as { Result: Array<{ Id: number; LocalId: number }> }
    expect(body.Result[0]).toMatchObject({ Id: 255, LocalId: 1764000000123 })
    expect(text).not.toContain('1518171256447')
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)))
  })

  it('with --match-identity, the same token matches whether it comes by cookie or by header', async () => {
    const r = await start({ matchIdentity: true })
    // Recorded with `Authorization: Client …`; sent now by cookie.
    const byCookie = await postJson(r.url, PATHS.send, { LocalId: 1, Payload: 'text', Text: '!' }, { cookie: `theme=dark; client-session=${TOKEN}` })
    expect(byCookie.status).toBe(200)
    await r.reset()
    const byHeader = await postJson(r.url, PATHS.send, { LocalId: 1, Payload: 'text', Text: '!' }, { authorization: `Client ${TOKEN}` })
    expect(byHeader.status).toBe(200)
    const other = await postJson(r.url, PATHS.send, { LocalId: 1, Payload: 'text', Text: '!' }, { authorization: 'Client someone-else' })
    expect(other.status).toBe(404)
    const miss = (await other.json()) as MissEnvelope
    expect(miss.Error.Message).toMatch(/nearest #3 .*differs in identity \(unknown:[0-9a-f]{12}, recorded identity-1\)/)
  })

  it('without --match-identity, tokens do not matter', async () => {
    const r = await start()
    const res = await postJson(r.url, PATHS.send, { LocalId: 1, Payload: 'text', Text: '!' }, { authorization: 'Client someone-else' })
    expect(res.status).toBe(200)
  })

  it('with --match-host, a client using replay as its HTTP proxy (absolute-form target) matches by the host it addressed', async () => {
    const r = await start({ matchHost: true })
    const rawRequest = (host: string) =>
      new Promise<string>((resolve, reject) => {
        const body = '{"ChatId":10}'
        const socket = connect(Number(new URL(r.url).port), '127.0.0.1', () =>
          socket.write(
            `POST http://${host}${PATHS.history} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
              `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
          ),
        )
        let out = ''
        socket.on('data', (d: Buffer) => (out += d.toString()))
        socket.on('end', () => resolve(out))
        socket.on('error', reject)
      })
    expect(await rawRequest('api.example.test')).toMatch(/^HTTP\/1\.1 200 OK\r\n/)
    const other = await rawRequest('elsewhere.test')
    expect(other).toMatch(/^HTTP\/1\.1 404 /)
    expect(other).toContain('differs in host (elsewhere.test, recorded api.example.test)')
  })

  it('answers a miss with a 404 envelope naming the request and the nearest recording with what differs', async () => {
    const r = await start()
    const res = await postJson(r.url, PATHS.send, { LocalId: 5, Payload: 'text', Text: 'hello?' })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-reltape')).toBe('miss')
    const body = (await res.json()) as MissEnvelope
    expect(body.OK).toBe(false)
    expect(body.Result).toBeNull()
    expect(body.Error.Code).toBe('ReplayMiss')
    expect(body.Error.Message).toBe(`no recording for POST ${PATHS.send}; nearest #3 (POST ${PATHS.send}) differs in body field Text`)
    expect(body.Error.Nearest).toEqual({ Seq: 3, Method: 'POST', Path: PATHS.send, Differs: ['body field Text'] })
    expect(r.misses).toHaveLength(1)
    expect(r.misses[0]).toMatchObject({ method: 'POST', path: PATHS.send, reason: 'no-match', nearest: { seq: 3 } })
  })

  it('names the path when no recording has it', async () => {
    const r = await start()
    const res = await postJson(r.url, '/public/api/v1/chats/channel/histories', { ChatId: 10 })
    const body = (await res.json()) as MissEnvelope
    expect(body.Error.Nearest?.Seq).toBe(1)
    expect(body.Error.Message).toContain(`differs in path (/public/api/v1/chats/channel/histories, recorded ${PATHS.history})`)
  })

  it('with --strict, a request whose recordings ran out is a miss', async () => {
    const r = await start({ strict: true })
    expect((await postJson(r.url, PATHS.history, { ChatId: 10 })).status).toBe(200)
    expect((await postJson(r.url, PATHS.history, { ChatId: 10 })).status).toBe(200)
    const third = await postJson(r.url, PATHS.history, { ChatId: 10 })
    expect(third.status).toBe(404)
    const body = (await third.json()) as MissEnvelope
    expect(body.Error.Message).toMatch(/all 2 recording\(s\) of POST \/public\/api\/v1\/chats\/channel\/history were already served \(strict mode\); the last was #4/)
    expect(r.misses.map((m) => m.reason)).toEqual(['exhausted'])
  })

  it('serves a PNG download byte-identical', async () => {
    const session = chatStory()
    const r = await start()
    const res = await postJson(r.url, PATHS.download, { FileId: 'e83220a3-56cb-11e7-b21f-6109cf735b0f.png' })
    expect(res.headers.get('content-type')).toBe('image/png')
    const got = Buffer.from(await res.arrayBuffer())
    const want = expectedBytes(session.exchanges[4]!.response!.body)
    expect(got.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true)
    expect(got.equals(want)).toBe(true)
  })

  it('matches a multipart upload sent with a new boundary, by its parts', async () => {
    const r = await start()
    const form = () => {
      const f = new FormData()
      f.append('ChatId', '10')
      f.append('File', new Blob(['hello reltape\n'], { type: 'text/plain' }), 'note.txt')
      return f
    }
    const res = await fetch(r.url + PATHS.upload, { method: 'POST', body: form() })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { Result: { Name: string } }).Result.Name).toBe('note.txt')
    const other = new FormData()
    other.append('ChatId', '10')
    other.append('File', new Blob(['other content\n'], { type: 'text/plain' }), 'note.txt')
    const miss = await fetch(r.url + PATHS.upload, { method: 'POST', body: other })
    expect(miss.status).toBe(404)
    expect(((await miss.json()) as MissEnvelope).Error.Message).toContain('part "File" has other content')
  })

  it('serves a recorded OK:false call as recorded (HTTP 200), not as a miss', async () => {
    const r = await start()
    const res = await postJson(r.url, PATHS.close, { TicketId: 999 })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-reltape')).toBeNull()
    expect(await res.json()).toMatchObject({ OK: false, Error: { Code: 'NotFound' } })
  })

  it('shows used and unused recordings and the misses in /__reltape/state, and rewinds on /__reltape/reset', async () => {
    const r = await start()
    await postJson(r.url, PATHS.history, { ChatId: 10 })
    await postJson(r.url, PATHS.send, { LocalId: 7, Payload: 'text', Text: '!' })
    await postJson(r.url, PATHS.history, { ChatId: 99 })
    const state = (await (await fetch(r.url + '/__reltape/state')).json()) as { used: number[]; unused: number[]; misses: Array<{ path: string }> }
    expect(state.used).toEqual([1, 3])
    expect(state.unused).toEqual([2, 4, 5, 6, 7])
    expect(state.misses).toHaveLength(1)
    expect(state.misses[0]!.path).toBe(PATHS.history)
    expect(r.unused().map((u) => u.seq)).toEqual([2, 4, 5, 6, 7])

    const reset = await fetch(r.url + '/__reltape/reset', { method: 'POST' })
    expect(reset.status).toBe(200)
    const again = (await (await postJson(r.url, PATHS.history, { ChatId: 10 })).json()) as { Result: unknown[] }
    expect(again.Result).toHaveLength(1) // the first recording again, not the second
    expect(((await (await fetch(r.url + '/__reltape/state')).json()) as { used: number[]; misses: unknown[] })).toMatchObject({ used: [1], misses: [] })
  })

  it('answers 100 concurrent requests with the same key each from its own queue position, exactly once', async () => {
    const session = chatStory()
    const template = session.exchanges[0]!
    session.exchanges = Array.from({ length: 100 }, (_, i) => ({
      ...template,
      seq: i + 1,
      id: `ex-${i + 1}`,
      response: { ...template.response!, body: { kind: 'json' as const, json: { OK: true, Error: null, Result: i + 1 }, contentType: 'application/json', size: 40 } },
    }))
    const r = await start({ session, strict: true })
    const answers = await Promise.all(
      Array.from({ length: 100 }, async () => ((await (await postJson(r.url, PATHS.history, { ChatId: 10 })).json()) as { Result: number }).Result),
    )
    expect([...answers].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1))
    expect(r.unused()).toEqual([])
    expect((await postJson(r.url, PATHS.history, { ChatId: 10 })).status).toBe(404)
  })
})
