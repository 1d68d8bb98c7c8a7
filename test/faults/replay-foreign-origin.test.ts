/**
 * A tester runs replay while browsing: a page on some other web site (or one that rebinds its own domain to
 * 127.0.0.1) must not read the recorded answers, while the app under test (on the origin it was recorded from, or on
 * a loopback dev server) and clients using replay as their HTTP proxy work as before.
 */
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { parseSession, type Exchange, type Session } from '../../model/session.js'
import { buildReplayApp, type ReplayApp } from '../../replay/app.js'
import { memorySource, type RecordingSource } from '../../replay/session-index.js'
import { startReplay, type ReplayHandle } from '../../replay/start-replay.js'
import { chatStory, PATHS } from '../fixtures/replay/helpers.js'
import { runCli } from '../helpers/cli.js'

const RECORDED_ORIGIN = 'http://app.example.test'
const FOREIGN = 'https://evil.example'

let built: ReplayApp | null = null
let replay: ReplayHandle | null = null
afterEach(async () => {
  await built?.app.close()
  await replay?.close()
  built = replay = null
})

const postJson = (payload: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json', ...headers },
  payload: JSON.stringify(payload),
})

function corsHeaders(headers: Record<string, unknown>): string[] {
  return Object.keys(headers).filter((h) => h.startsWith('access-control-'))
}

/** A raw HTTP request with the Host (and target) a client chooses, as a rebinding page's browser or a proxy client sends. */
function send(url: string, target: string, host: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ ChatId: 10 })
    const req = httpRequest(
      { host: '127.0.0.1', port: Number(port), method: 'POST', path: target, headers: { host, 'content-type': 'application/json', 'content-length': String(body.length) } },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => (text += d))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

describe('a page on another web origin cannot read what replay answers', () => {
  it('gets no CORS headers on a hit, a preflight or a miss, and the log names its origin once', async () => {
    const lines: string[] = []
    built = await buildReplayApp(chatStory(), { log: (l) => lines.push(l) })
    const { app } = built
    const hit = await app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: FOREIGN }) })
    expect(hit.statusCode).toBe(200)
    expect(corsHeaders(hit.headers)).toEqual([])
    // A preflight recorded for the path, and one built from the path's recorded CORS headers.
    for (const path of [PATHS.send, PATHS.history]) {
      const pre = await app.inject({ method: 'OPTIONS', url: path, headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } })
      expect(corsHeaders(pre.headers), path).toEqual([])
    }
    const miss = await app.inject({ url: PATHS.history, ...postJson({ ChatId: 99 }, { origin: FOREIGN }) })
    expect(miss.statusCode).toBe(404)
    expect(corsHeaders(miss.headers)).toEqual([])
    expect(lines.filter((l) => l.startsWith('CORS refused origin'))).toEqual([
      `CORS refused origin "${FOREIGN}" (POST ${PATHS.history}): not an origin the session was recorded from, not loopback, not --allow-origin; ` +
        'answered without CORS headers, so that page cannot read it (this line is logged once per origin)',
    ])
  })

  it('the origin the session was recorded from, and pages on loopback, still read answers and misses', async () => {
    built = await buildReplayApp(chatStory())
    const { app } = built
    for (const origin of [RECORDED_ORIGIN, 'http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080']) {
      const hit = await app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin }) })
      expect(hit.headers['access-control-allow-origin'], origin).toBe(origin)
      expect(hit.headers['access-control-allow-credentials'], origin).toBe('true')
      const miss = await app.inject({ url: PATHS.history, ...postJson({ ChatId: 99 }, { origin }) })
      expect(miss.headers['access-control-allow-origin'], origin).toBe(origin)
    }
    // Without an Origin (curl, a test's client), the recorded headers as they are.
    const plain = await app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }) })
    expect(plain.headers['access-control-allow-origin']).toBe(RECORDED_ORIGIN)
  })

  it('--allow-origin widens the list: a named origin, or * for any', async () => {
    built = await buildReplayApp(chatStory(), { allowOrigins: ['https://Staging.Example:8443/'] })
    const named = await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: 'https://staging.example:8443' }) })
    expect(named.headers['access-control-allow-origin']).toBe('https://staging.example:8443')
    const other = await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: FOREIGN }) })
    expect(corsHeaders(other.headers)).toEqual([])
    await built.app.close()

    built = await buildReplayApp(chatStory(), { allowOrigins: ['*'] })
    const any = await built.app.inject({ method: 'OPTIONS', url: PATHS.history, headers: { origin: FOREIGN, 'access-control-request-method': 'POST' } })
    expect(any.headers['access-control-allow-origin']).toBe(FOREIGN)
  })

  it('a value that is not an origin is refused, naming the flag', async () => {
    await expect(buildReplayApp(chatStory(), { allowOrigins: ['app.example.test'] })).rejects.toMatchObject({
      code: 'OPTION_INVALID',
      message: 'allowOrigins (--allow-origin): "app.example.test" is not an origin: give scheme://host[:port], such as http://localhost:5173, or * for any',
    })
    const r = runCli(['replay', 'x', '--allow-origin', 'http://a.test/path'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('allowOrigins (--allow-origin): "http://a.test/path" is not an origin')
  })

  it('learns the recorded origins without reading every exchange at start, and only for a page on an origin it does not know', async () => {
    // A session whose recordings are on many paths: counting the exchanges replay reads.
    const session: Session = chatStory()
    const template = session.exchanges[0]!
    for (let i = 0; i < 300; i++) {
      const e = structuredClone(template) as Exchange
      e.seq = 100 + i
      e.id = `many-${i}`
      e.request.url = `https://api.example.test/public/api/v1/items/${i}`
      session.exchanges.push(e)
    }
    const memory = memorySource(parseSession(session))
    let reads = 0
    const counting: RecordingSource = { ...memory, exchangeSync: (seq) => (reads++, memory.exchangeSync(seq)) }
    built = await buildReplayApp(counting)
    expect(reads).toBe(0)
    await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: 'http://localhost:5173' }) })
    const afterLoopback = reads
    // The first call from an origin that is neither loopback nor --allow-origin looks it up, once, in bounded reads.
    const first = await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: RECORDED_ORIGIN }) })
    expect(first.headers['access-control-allow-origin']).toBe(RECORDED_ORIGIN)
    const lookedUp = reads - afterLoopback
    expect(lookedUp).toBeGreaterThan(0)
    expect(lookedUp).toBeLessThanOrEqual(201)
    await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: FOREIGN }) })
    await built.app.inject({ url: PATHS.history, ...postJson({ ChatId: 10 }, { origin: RECORDED_ORIGIN }) })
    expect(reads - afterLoopback - lookedUp).toBeLessThanOrEqual(2)
  })
})

describe('a page that rebinds its own domain to 127.0.0.1 gets nothing', () => {
  it('a Host that is not loopback, the bound address or a recorded host: 421 REPLAY_HOST_NOT_ALLOWED, also for the state', async () => {
    const lines: string[] = []
    replay = await startReplay({ session: chatStory(), log: (l) => lines.push(l) })
    const port = new URL(replay.url).port
    for (const target of [PATHS.history, '/__reltape/state']) {
      const r = await send(replay.url, target, `evil.example:${port}`)
      expect(r.status, target).toBe(421)
      expect(r.headers['x-reltape']).toBe('refused')
      expect(JSON.parse(r.body)).toEqual({
        OK: false,
        Error: {
          Code: 'ReplayHostNotAllowed',
          Message:
            `replay answers only requests for localhost, 127.0.0.1, [::1], 127.0.0.1 or a host the session recorded, not Host "evil.example:${port}" ` +
            '(a guard against DNS rebinding); a client using replay as its HTTP proxy (absolute URLs) is not affected',
        },
        Result: null,
      })
    }
    expect(lines.filter((l) => l.startsWith('REFUSED'))).toHaveLength(1)
    expect(replay.state().used).toEqual([])

    // Loopback names, the bound address and the API's recorded host are answered.
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'api.example.test']) {
      expect((await send(replay.url, PATHS.history, host)).status, host).toBe(200)
    }
    // A client using replay as its HTTP proxy names any host in an absolute-form target.
    expect((await send(replay.url, `http://elsewhere.test${PATHS.history}`, 'elsewhere.test')).status).not.toBe(421)
  })

  it('bound to a wildcard address, IP literals are answered too (rebinding needs a domain name)', async () => {
    replay = await startReplay({ session: chatStory(), host: '0.0.0.0' })
    const port = new URL(replay.url).port
    expect((await send(replay.url, PATHS.history, `192.0.2.7:${port}`)).status).toBe(200)
    expect((await send(replay.url, PATHS.history, `rebound.example:${port}`)).status).toBe(421)
  })
})
