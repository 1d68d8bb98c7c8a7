/**
 * A test suite imports `startRecorder` into its own process: recording through it leaves that process's
 * built-ins alone. TLS contexts, `console` and `net.Server#listen` are the very functions they were, while the
 * recorder runs (an upstream over TLS, one that is down) and after it stops, when it leaves no listener on the
 * process either (while it records, its journal listens for the process's exit, to write what is pending).
 */
import net from 'node:net'
import { networkInterfaces } from 'node:os'
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

/** The process's own listeners: a stopped recorder leaves none behind. */
const processListeners = () => Object.fromEntries(['exit', 'beforeExit', 'SIGINT', 'SIGTERM', 'uncaughtException', 'unhandledRejection'].map((e) => [e, process.listenerCount(e)]))

const before = builtIns()
const listenersBefore = processListeners()
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
    // Watched while it starts too: a built-in replaced only for the moment of starting is still replaced.
    let replacedWhileStarting = false
    const watch = setInterval(() => {
      const now = builtIns()
      if (Object.keys(now).some((k) => now[k as keyof typeof now] !== before[k as keyof typeof before])) replacedWhileStarting = true
    }, 0)
    try {
      env = await startRecorderEnv({}, home)
    } finally {
      clearInterval(watch)
    }
    expect(replacedWhileStarting).toBe(false)
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
    expect(processListeners()).toEqual(listenersBefore)
  })

  // An address of this machine that is not loopback: a connection to it comes from a peer the loopback host bars.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address

  // Without a non-loopback interface there is no other peer to try (a machine with loopback only).
  it.skipIf(!external)('answers nothing to a peer that is not on loopback, though mockttp listens on every interface', async () => {
    const local = await startRecorderEnv({}, home)
    try {
      const reply = await new Promise<string>((resolve) => {
        const s = net.connect(local.rec.port, external!, () => s.write('GET http://example.invalid/ HTTP/1.1\r\nHost: example.invalid\r\n\r\n'))
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('close', () => resolve(got))
        s.on('error', () => resolve(got))
        setTimeout(() => s.destroy(), 3000)
      })
      expect(reply).toBe('')
      // From loopback it answers as ever.
      const ok = await postVia(local, `${upstream.url}/public/api/v1/chats/history`, {})
      expect(ok.status).toBe(200)
    } finally {
      await local.close()
    }
  })

  it.skipIf(!external)('given another host, answers nothing that did not arrive on it, though mockttp listens on every interface', async () => {
    const onExternal = await startRecorderEnv({ host: external! }, home)
    const ask = (address: string) =>
      new Promise<string>((resolve) => {
        const s = net.connect(onExternal.rec.port, address, () => s.write('GET http://example.invalid/ HTTP/1.1\r\nHost: example.invalid\r\nConnection: close\r\n\r\n'))
        let got = ''
        s.on('data', (d) => (got += d.toString()))
        s.on('close', () => resolve(got))
        s.on('error', () => resolve(got))
        setTimeout(() => s.destroy(), 5000)
      })
    try {
      expect(await ask('127.0.0.1')).toBe('')
      // On the host it was given, it answers (here: the upstream cannot be reached, said over HTTP).
      expect(await ask(external!)).toMatch(/^HTTP\/1\.1 \d{3}/)
    } finally {
      await onExternal.close()
    }
  })
})
