/**
 * A tester records in reverse mode (`--upstream`) while the API is down: the recorded failure names the upstream it
 * could not reach, not the recorder's own address the app was pointed at.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { closedPort, startRecorderEnv, type RecorderEnv } from '../helpers/recorder-env.js'

let env: RecorderEnv | undefined
afterEach(async () => {
  await env?.close()
  env = undefined
})

describe('reverse mode with the upstream down', () => {
  it("records UPSTREAM_UNREACHABLE naming the upstream's address", async () => {
    const port = await closedPort()
    env = await startRecorderEnv({ session: 'reverse-down', upstream: `http://127.0.0.1:${port}` })
    const res = await fetch(`${env.rec.url}/public/api/v1/chats/history`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(502)
    await env.rec.settle()
    const [e] = (await env.session()).exchanges
    expect(e?.error?.code).toBe('UPSTREAM_UNREACHABLE')
    expect(e?.error?.message).toContain(`could not be reached: 127.0.0.1:${port}: ECONNREFUSED`)
    expect(e?.error?.message).not.toContain(`:${env.rec.port}`)
    // The exchange itself keeps the URL the app called.
    expect(e?.request.url).toBe(`${env.rec.url}/public/api/v1/chats/history`)
  })
})
