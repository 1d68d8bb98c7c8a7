/**
 * A tester records with `--max-body 1000` an API that sends and receives larger bodies, chunked or with a
 * Content-Length: each stored body keeps its first 1000 bytes, is marked `truncated`, and carries its real size,
 * while client and upstream still get every byte.
 */
import { Readable } from 'node:stream'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Body, Exchange } from '../../model/session.js'
import { withBody, startHttpUpstream, startRecorderEnv, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'

const LIMIT = 1000
const SIZE = 5000
const TEXT = 'abcdefghij'.repeat(SIZE / 10)

let env: RecorderEnv
let up: Upstream
/** What the upstream received, by path. */
const received = new Map<string, number>()

beforeAll(async () => {
  up = await startHttpUpstream((req, res) => {
    withBody(req, (b) => {
      const path = req.url ?? ''
      received.set(path, b.length)
      if (path.endsWith('/chunked')) {
        // No Content-Length: Node sends it chunked, in pieces.
        res.writeHead(200, { 'Content-Type': 'text/plain' })
        for (let i = 0; i < SIZE; i += 700) res.write(TEXT.slice(i, i + 700))
        res.end()
      } else if (path.endsWith('/sized')) {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': String(SIZE) }).end(TEXT)
      } else {
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(`{"OK":true,"Received":${b.length}}`)
      }
    })
  })
  env = await startRecorderEnv({ maxBody: LIMIT, session: 'max-body' })
})

afterAll(async () => {
  await env?.close()
  await up?.close()
})

async function exchangeFor(path: string): Promise<Exchange> {
  await env.rec.settle()
  const e = (await env.session()).exchanges.find((x) => x.request.url.endsWith(path))
  if (!e) throw new Error(`no exchange for ${path}`)
  return e
}

function expectCut(body: Body | undefined): void {
  expect(body).toMatchObject({ kind: 'text', text: TEXT.slice(0, LIMIT), size: SIZE, truncated: true })
}

describe('bodies over --max-body', () => {
  it('a chunked response: the client gets all of it; the first bytes are stored, marked, with the real size', async () => {
    const res = await request(`${up.url}/public/api/v1/chunked`, { method: 'POST', dispatcher: env.proxy, headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(await res.body.text()).toBe(TEXT)
    expectCut((await exchangeFor('/chunked')).response?.body)
  })

  it('a response with a Content-Length: the same', async () => {
    const res = await request(`${up.url}/public/api/v1/sized`, { method: 'POST', dispatcher: env.proxy, headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(await res.body.text()).toBe(TEXT)
    expectCut((await exchangeFor('/sized')).response?.body)
  })

  it('a request body with a Content-Length: the upstream gets all of it; its first bytes are stored, marked', async () => {
    const res = await request(`${up.url}/public/api/v1/upload-sized`, { method: 'POST', dispatcher: env.proxy, headers: { 'content-type': 'text/plain' }, body: TEXT })
    expect(await res.body.json()).toEqual({ OK: true, Received: SIZE })
    expectCut((await exchangeFor('/upload-sized')).request.body)
  })

  it('a chunked request body: the same', async () => {
    const pieces = Readable.from(Array.from({ length: SIZE / 500 }, (_v, i) => Buffer.from(TEXT.slice(i * 500, i * 500 + 500))))
    const res = await request(`${up.url}/public/api/v1/upload-chunked`, { method: 'POST', dispatcher: env.proxy, headers: { 'content-type': 'text/plain' }, body: pieces })
    expect(await res.body.json()).toEqual({ OK: true, Received: SIZE })
    expect(received.get('/public/api/v1/upload-chunked')).toBe(SIZE)
    expectCut((await exchangeFor('/upload-chunked')).request.body)
  })
})
