/**
 * Failures are exchanges too, and bad input never stops the recorder: an upstream that is down, resets,
 * or has a certificate nobody trusts; a client that gives up; garbage on the port; a port in use;
 * a session directory that cannot be written; a session another recorder holds.
 */
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { connect, createServer, type AddressInfo } from 'node:net'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startRecorder } from '../../recorder/index.js'
import {
  closedPort,
  postVia,
  readBody,
  startHttpsUpstream,
  startHttpUpstream,
  startRecorderEnv,
  tempDir,
  until,
  type RecorderEnv,
  type Upstream,
} from '../helpers/recorder-env.js'

const cleanups: (() => Promise<unknown>)[] = []
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!()
})

async function recorderEnv(options: Parameters<typeof startRecorderEnv>[0] = {}, home?: string): Promise<RecorderEnv> {
  const env = await startRecorderEnv(options, home)
  cleanups.push(() => env.close())
  return env
}

async function upstream(u: Promise<Upstream>): Promise<Upstream> {
  const up = await u
  cleanups.push(() => up.close())
  return up
}

async function onlyExchange(env: RecorderEnv) {
  await env.rec.settle()
  const s = await env.session()
  expect(s.exchanges).toHaveLength(1)
  return s.exchanges[0]!
}

describe('upstream failures are recorded as exchanges', () => {
  it('an upstream that is down: UPSTREAM_UNREACHABLE, no response, and the client gets the proxy 502', async () => {
    const env = await recorderEnv()
    const port = await closedPort()
    const res = await postVia(env, `http://127.0.0.1:${port}/public/api/v1/chats/history`, {})
    expect(res.status).toBe(502)
    const e = await onlyExchange(env)
    expect(e.response).toBeNull()
    expect(e.error?.code).toBe('UPSTREAM_UNREACHABLE')
    expect(e.error?.message).toContain('ECONNREFUSED')
    expect(env.lines[0]).toMatch(/UPSTREAM_UNREACHABLE/)
  })

  it("a real upstream 502 is the upstream's answer, not a failure", async () => {
    const env = await recorderEnv()
    const up = await upstream(
      startHttpUpstream((_req, res) => {
        res.writeHead(502, { 'Content-Type': 'application/json' }).end('{"OK":false,"Error":{"Code":"BadGateway"}}')
      }),
    )
    const res = await postVia(env, `${up.url}/public/api/v1/x`, {})
    expect(res.status).toBe(502)
    const e = await onlyExchange(env)
    expect(e.error).toBeNull()
    expect(e.response?.status).toBe(502)
    expect(e.response?.body).toMatchObject({ kind: 'json', json: { OK: false } })
  })

  it('an upstream that resets the connection: UPSTREAM_RESET', async () => {
    const env = await recorderEnv()
    const up = await upstream(startHttpUpstream((req) => req.socket.destroy()))
    const res = await postVia(env, `${up.url}/public/api/v1/x`, {})
    expect(res.status).toBe(502)
    const e = await onlyExchange(env)
    expect(e.error?.code).toBe('UPSTREAM_RESET')
  })

  it('an upstream whose certificate is not trusted: UPSTREAM_TLS naming the fix; --upstream-ca and --insecure-upstream get through', async () => {
    const otherCaHome = await tempDir('other-ca')
    const up = await upstream(startHttpsUpstream(otherCaHome, (_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"OK":true}')))
    const strict = await recorderEnv()
    expect((await postVia(strict, `${up.url}/public/api/v1/x`, {})).status).toBe(502)
    const e = await onlyExchange(strict)
    expect(e.error?.code).toBe('UPSTREAM_TLS')
    expect(e.error?.message).toContain('--upstream-ca')

    const trusting = await recorderEnv({ upstreamCaFiles: [join(otherCaHome, 'ca.pem')], session: 'trusting' })
    expect((await postVia(trusting, `${up.url}/public/api/v1/x`, {})).status).toBe(200)
    expect((await onlyExchange(trusting)).response?.body).toMatchObject({ kind: 'json', json: { OK: true } })

    const insecure = await recorderEnv({ insecureUpstream: true, session: 'insecure' })
    expect((await postVia(insecure, `${up.url}/public/api/v1/x`, {})).status).toBe(200)
  })

  it('a client that gives up before the answer: CLIENT_ABORTED with its request', async () => {
    const env = await recorderEnv()
    let arrived = false
    const up = await upstream(
      startHttpUpstream((req) => {
        arrived = true
        readBody(req).catch(() => undefined) // and never answer
      }),
    )
    const abort = new AbortController()
    const pending = request(`${up.url}/public/api/v1/debug/delay`, {
      method: 'POST',
      dispatcher: env.proxy,
      headers: { 'content-type': 'application/json', Authorization: 'Client abcdefabcdef0123456789' },
      body: '{"Ms":60000}',
      signal: abort.signal,
    })
    await until(() => arrived, 'the request to reach the upstream')
    abort.abort()
    await expect(pending).rejects.toThrow()
    await until(() => env.rec.stats().recorded === 1, 'the aborted exchange')
    const e = await onlyExchange(env)
    expect(e.error?.code).toBe('CLIENT_ABORTED')
    expect(e.response).toBeNull()
    expect(e.request.body).toMatchObject({ kind: 'json', json: { Ms: 60000 } })
    expect(e.request.auth?.identity).toBe('identity-1')
  })
})

describe('an upstream that does not answer', () => {
  it('is a TIMEOUT after --upstream-timeout, and the client is let go', async () => {
    const env = await recorderEnv({ upstreamTimeoutMs: 400 })
    const up = await upstream(startHttpUpstream((req) => void readBody(req).catch(() => undefined)))
    const outcome = await request(`${up.url}/public/api/v1/debug/delay`, {
      method: 'POST',
      dispatcher: env.proxy,
      headers: { 'content-type': 'application/json' },
      body: '{"Ms":60000}',
    }).then(
      (r) => `answered ${r.statusCode}`,
      (e: Error) => `failed: ${e.message}`,
    )
    expect(outcome).toMatch(/^failed/)
    await until(() => env.rec.stats().recorded === 1, 'the timed-out exchange')
    const e = await onlyExchange(env)
    expect(e.error?.code).toBe('TIMEOUT')
    expect(e.error?.message).toContain('0.4 s')
    expect(e.response).toBeNull()
    expect(e.request.body).toMatchObject({ kind: 'json', json: { Ms: 60000 } })
  })

  it('is a TIMEOUT for HTTPS through CONNECT too', async () => {
    const env = await recorderEnv({ upstreamTimeoutMs: 400 })
    // Certificate from the recorder's own CA, which it trusts upstream.
    const up = await upstream(startHttpsUpstream(env.home, (req) => void readBody(req).catch(() => undefined)))
    await expect(postVia(env, `${up.url}/public/api/v1/silent`, {})).rejects.toThrow()
    await until(() => env.rec.stats().recorded === 1, 'the timed-out exchange')
    expect((await onlyExchange(env)).error?.code).toBe('TIMEOUT')
  })
})

describe('bad input keeps the recorder running', () => {
  it('garbage on the proxy port and a client that disconnects mid-body', async () => {
    const env = await recorderEnv()
    // Like a real API, the upstream reads the whole body before it answers.
    const up = await upstream(
      startHttpUpstream((req, res) => {
        readBody(req).then(
          () => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"OK":true}'),
          () => undefined,
        )
      }),
    )
    const send = (bytes: string) =>
      new Promise<string>((resolve) => {
        const s = connect(env.rec.port, '127.0.0.1', () => s.write(bytes))
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('close', () => resolve(got))
        s.on('error', () => resolve(got))
        setTimeout(() => s.destroy(), 500)
      })
    const answer = await send('GARBAGE \x00\x01\x02 NOT HTTP\r\n\r\n')
    expect(answer).toMatch(/^HTTP\/1\.1 4\d\d/)
    await until(() => env.logs.some((l) => l.startsWith('client error')), 'the client error notice')

    await new Promise<void>((resolve) => {
      const s = connect(env.rec.port, '127.0.0.1', () => {
        s.write(`POST ${up.url}/public/api/v1/half HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"half":`)
        setTimeout(() => {
          s.destroy()
          resolve()
        }, 100)
      })
    })
    await until(() => env.rec.stats().recorded === 1, 'the cut-off request')
    const s = await env.session()
    expect(s.exchanges[0]?.error?.code).toBe('CLIENT_ABORTED')
    expect(s.exchanges[0]?.request.url).toBe(`${up.url}/public/api/v1/half`)

    const res = await postVia(env, `${up.url}/public/api/v1/after`, {})
    expect(res.status).toBe(200)
    await env.rec.settle()
    expect((await env.session()).exchanges.map((e) => e.request.url.split('/').pop())).toEqual(['half', 'after'])
  })

  it('a port already in use: says which', async () => {
    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    cleanups.push(() => new Promise((r) => blocker.close(r)))
    const port = (blocker.address() as AddressInfo).port
    const dir = await tempDir('rec-port')
    const home = await tempDir('rec-port-home')
    const err = await startRecorder({ home, dir, port, session: 'p', log: () => {} }).catch((e: unknown) => e as Error & { code?: string })
    expect(err).toBeInstanceOf(Error)
    expect((err as { code?: string }).code).toBe('PORT_IN_USE')
    expect((err as Error).message).toContain(`127.0.0.1:${port}`)
    // The session it opened was released and, being new and empty, not left behind.
    expect(existsSync(join(dir, 'p.json'))).toBe(false)
    const rec = await startRecorder({ home, dir, port: 0, session: 'p', log: () => {} })
    await rec.stop()
  })

  it('a session directory that cannot be written: a clear error naming it', async () => {
    const base = await tempDir('rec-unwritable')
    const file = join(base, 'not-a-dir')
    await writeFile(file, 'x')
    const home = await tempDir('rec-unwritable-home')
    const err = await startRecorder({ home, dir: join(file, 'sessions'), port: 0, log: () => {} }).catch((e: unknown) => e as Error & { code?: string })
    expect((err as { code?: string }).code).toBe('SESSION_DIR_UNWRITABLE')
    expect((err as Error).message).toContain(join(file, 'sessions'))
  })

  it('a second recorder on the same session is refused; a later one continues the session', async () => {
    const env = await recorderEnv({ session: 'shared' })
    const second = await startRecorder({ home: env.home, dir: env.dir, port: 0, session: 'shared', log: () => {} }).catch((e: unknown) => e as Error & { code?: string })
    expect((second as { code?: string }).code).toBe('SESSION_LOCKED')
    const up = await upstream(startHttpUpstream((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"OK":true}')))
    await postVia(env, `${up.url}/public/api/v1/one`, {})
    await env.rec.settle()
    await env.rec.stop()
    const again = await startRecorder({ home: env.home, dir: env.dir, port: 0, session: 'shared', log: () => {} })
    cleanups.push(() => again.stop())
    expect(again.exchangesAtStart).toBe(1)
    const { ProxyAgent } = await import('undici')
    const agent = new ProxyAgent({ uri: again.url })
    cleanups.push(() => agent.close())
    await request(`${up.url}/public/api/v1/two`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{}' })
    await again.settle()
    const s = await env.session()
    expect(s.exchanges.map((e) => [e.seq, e.request.url.split('/').pop()])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ])
  })
})
