/**
 * A client whose answer the recorder held until it was journaled still gets the upstream's headers as the upstream
 * sent them: names in their case, in their order, repeated ones all there.
 */
import { request as httpRequest } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { withBody, startHttpUpstream, startRecorderEnv, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'

let env: RecorderEnv | undefined
let up: Upstream | undefined
afterEach(async () => {
  await env?.close()
  await up?.close()
  env = up = undefined
})

describe('a response held until it is journaled', () => {
  it("reaches the client with the upstream's header names, case and order", async () => {
    up = await startHttpUpstream((req, res) => {
      withBody(req, () => {
        res.writeHead(200, [
          ['Content-Type', 'application/json'],
          ['X-Request-ID', 'abc'],
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
          ['x-lower', 'y'],
        ])
        res.end('{"OK":true}')
      })
    })
    env = await startRecorderEnv({ session: 'headers' })
    // A plain HTTP proxy request (absolute URL), read with Node's http client, which keeps raw header names.
    const raw = await new Promise<string[]>((resolve, reject) => {
      const proxy = new URL(env!.rec.url)
      const req = httpRequest({ host: proxy.hostname, port: proxy.port, method: 'POST', path: `${up!.url}/public/api/v1/headers`, headers: { 'Content-Type': 'application/json' } }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.rawHeaders))
      })
      req.on('error', reject)
      req.end('{}')
    })
    const names = raw.filter((_v, i) => i % 2 === 0)
    expect(names.filter((n) => !/^(date|connection|keep-alive|content-length|transfer-encoding)$/i.test(n))).toEqual(['Content-Type', 'X-Request-ID', 'Set-Cookie', 'Set-Cookie', 'x-lower'])
    await env.rec.settle()
    const [e] = (await env.session()).exchanges
    expect(e?.response?.headers.map(([n]) => n)).toContain('X-Request-ID')
  })
})
