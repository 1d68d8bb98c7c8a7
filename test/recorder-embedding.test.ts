/**
 * A test suite imports `startRecorder` into its own process: recording through it leaves that process's
 * built-ins alone. TLS contexts, `console` and `net.Server#listen` are the very functions they were, while the
 * recorder runs (an upstream over TLS, one that is down) and after it stops.
 */
import net from 'node:net'
import tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { closedPort, postVia, startHttpsUpstream, startRecorderEnv, tempDir, until, type RecorderEnv, type Upstream } from './helpers/recorder-env.js'

function builtIns() {
  return {
    createSecureContext: tls.createSecureContext,
    listen: net.Server.prototype.listen,
    log: console.log,
    warn: console.warn,
    error: console.error,
  }
}

const before = builtIns()
let home: string
let upstream: Upstream
let env: RecorderEnv

beforeAll(async () => {
  home = await tempDir('embed-home')
  upstream = await startHttpsUpstream(home, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"OK":true,"Error":null,"Result":null}')
  })
})
afterAll(async () => {
  await env?.close()
  await upstream?.close()
})

describe('startRecorder embedded in a test process', () => {
  it('records over TLS and through an upstream failure without replacing any built-in', async () => {
    env = await startRecorderEnv({}, home)
    expect(builtIns()).toEqual(before)
    const ok = await postVia(env, `${upstream.url}/public/api/v1/chats/history`, {})
    expect(ok.status).toBe(200)
    const down = await postVia(env, `https://localhost:${await closedPort()}/public/api/v1/chats/history`, {})
    expect(down.status).toBe(502)
    await until(async () => (await env.session()).exchanges.length === 2, 'both exchanges recorded')
    expect((await env.session()).exchanges.map((e) => e.error?.code ?? 'ok')).toEqual(['ok', 'UPSTREAM_UNREACHABLE'])
    expect(builtIns()).toEqual(before)
    await env.rec.stop(0)
    expect(builtIns()).toEqual(before)
  })
})
