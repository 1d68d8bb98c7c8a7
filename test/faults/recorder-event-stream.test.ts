/**
 * A tester's app listens to an event stream under the API path through the recorder: the events reach it as the
 * upstream sends them (a response held until it is journaled would never arrive), and the exchange is recorded once
 * the stream ends.
 */
import type { ServerResponse } from 'node:http'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { startHttpUpstream, startRecorderEnv, until, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'

let env: RecorderEnv | undefined
let up: Upstream | undefined
afterEach(async () => {
  await env?.close()
  await up?.close()
  env = up = undefined
})

describe('an event stream through the recorder', () => {
  it('streams to the client while it is open, and is recorded when it ends', async () => {
    let stream: ServerResponse | undefined
    up = await startHttpUpstream((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
      res.write('data: first\n\n')
      stream = res
    })
    env = await startRecorderEnv({ session: 'events' })
    const res = await request(`${up.url}/public/api/v1/events`, { dispatcher: env.proxy, headers: { accept: 'text/event-stream' }, headersTimeout: 5000, bodyTimeout: 5000 })
    expect(res.statusCode).toBe(200)
    const chunks = res.body[Symbol.asyncIterator]()
    // The first event arrives while the upstream still holds the stream open.
    const first = await chunks.next()
    expect(Buffer.from(first.value as Uint8Array).toString()).toBe('data: first\n\n')
    stream!.end('data: last\n\n')
    let rest = ''
    for (let c = await chunks.next(); !c.done; c = await chunks.next()) rest += Buffer.from(c.value as Uint8Array).toString()
    expect(rest).toBe('data: last\n\n')
    await until(async () => (await env!.session()).exchanges.length === 1, 'the stream to be recorded')
    const [e] = (await env.session()).exchanges
    expect(e?.response?.body).toMatchObject({ kind: 'text', text: 'data: first\n\ndata: last\n\n' })
  })
})
