/**
 * An export is what Playwright's routeFromHAR serves: a page at the recorded origin makes the recorded API calls
 * (its LocalId fixed to the recorded one, since Playwright matches POST bodies byte for byte) and gets the
 * recorded answers, from a `.har` and from a Playwright `.zip` alike. Nothing in the export is adjusted for it.
 */
import { rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Exchange, MultipartBody } from '../model/session.js'
import { bodyBytes } from '../store/body-bytes.js'
import { exportHar } from '../store/har-export.js'
import { importHar } from '../store/har-import.js'
import { SessionStore } from '../store/store.js'
import { tempDir } from './helpers/exchange-factory.js'

const SESSIONS = join(import.meta.dirname, '..', 'sessions')
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** The chat app: its own LocalId comes from the clock unless the test fixes it (window.fixedLocalId). */
const APP = `<!doctype html><meta charset="utf-8"><title>chat app</title><pre id="out">pending</pre>
<script>
  const b64 = (buf) => { let s = ''; for (const x of new Uint8Array(buf)) s += String.fromCharCode(x); return btoa(s) }
  async function call(path, init) {
    const res = await fetch(path, { method: 'POST', credentials: 'include', ...init })
    return { status: res.status, type: res.headers.get('content-type'), cors: res.headers.get('access-control-allow-credentials'), body: b64(await res.arrayBuffer()) }
  }
  window.run = async (calls) => {
    const out = []
    for (const c of calls) {
      if (c.parts) {
        const form = new FormData()
        for (const p of c.parts) {
          if (p.filename === undefined) form.append(p.name, p.text)
          else form.append(p.name, new Blob([Uint8Array.from(atob(p.base64), (ch) => ch.charCodeAt(0))], { type: p.contentType }), p.filename)
        }
        out.push(await call(c.path, { body: form }))
      } else {
        const json = JSON.parse(c.text)
        if ('LocalId' in json) json.LocalId = window.fixedLocalId ?? Date.now()
        out.push(await call(c.path, { headers: { 'Content-Type': c.contentType }, body: JSON.stringify(json) }))
      }
    }
    return out
  }
</script>`

let browser: Browser
let exchanges: Exchange[]
let dir: string
let origin: string

beforeAll(async () => {
  dir = await tempDir('reltape-har-pw-')
  const store = new SessionStore(SESSIONS)
  exchanges = (await store.read('sample-support-chat')).exchanges
  origin = new URL(exchanges[0]!.request.url).origin
  const reader = await store.reader('sample-support-chat')
  await exportHar(reader, join(dir, 'sample.har'))
  await exportHar(reader, join(dir, 'sample.zip'))
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS })
})

afterAll(async () => {
  await browser?.close()
  await rm(dir, { recursive: true, force: true })
})

/** The calls the page makes: one of each recorded kind (JSON with LocalId, plain JSON, multipart upload, PNG and text downloads). */
function callsFor(seqs: number[]) {
  return seqs.map((seq) => {
    const e = exchanges.find((x) => x.seq === seq)!
    const path = new URL(e.request.url).pathname
    const body = e.request.body
    if (body.kind === 'multipart') {
      const parts = (body as MultipartBody).parts.map((p) =>
        p.filename === undefined
          ? { name: p.name, text: bodyBytes(p.body).toString('utf8') }
          : { name: p.name, filename: p.filename, contentType: p.contentType, base64: bodyBytes(p.body).toString('base64') },
      )
      return { seq, path, parts }
    }
    return { seq, path, contentType: body.kind === 'empty' ? '' : body.contentType, text: bodyBytes(body).toString('utf8') }
  })
}

describe.each(['sample.har', 'sample.zip'])('Playwright routeFromHAR with the exported %s', (file) => {
  it('answers a page at the recorded origin with the recorded responses, byte for byte', async () => {
    const context = await browser.newContext()
    try {
      await context.routeFromHAR(join(dir, file), { url: `${origin}/public/api/**`, notFound: 'abort' })
      await context.route(`${origin}/app`, (route) => route.fulfill({ status: 200, contentType: 'text/html; charset=utf-8', body: APP }))
      const send = exchanges.find((e) => e.seq === 2)!
      await context.addInitScript((id) => {
        ;(globalThis as unknown as { fixedLocalId: number }).fixedLocalId = id
      }, (send.request.body as { json: { LocalId: number } }).json.LocalId)
      const page = await context.newPage()
      await page.goto(`${origin}/app`)
      const seqs = [1, 2, 5, 7, 8, 9]
      const results = (await page.evaluate((calls) => (globalThis as unknown as { run(c: unknown): Promise<unknown> }).run(calls), callsFor(seqs))) as {
        status: number
        type: string
        cors: string | null
        body: string
      }[]
      results.forEach((got, i) => {
        const recorded = exchanges.find((e) => e.seq === seqs[i])!.response!
        expect(got.status, `seq ${seqs[i]}`).toBe(recorded.status)
        expect(got.type, `seq ${seqs[i]}`).toBe(recorded.headers.find(([n]) => n.toLowerCase() === 'content-type')![1])
        expect(got.cors, `seq ${seqs[i]}`).toBe('true')
        expect(Buffer.from(got.body, 'base64').equals(bodyBytes(recorded.body)), `seq ${seqs[i]}'s body`).toBe(true)
      })
    } finally {
      await context.close()
    }
  })
})

describe('a zip that Playwright itself records', () => {
  let server: Server

  afterAll(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  })

  it('imports as the API calls the page made, bodies exact, the page itself left out', async () => {
    const png = bodyBytes(exchanges.find((e) => e.seq === 8)!.response!.body)
    const answer = JSON.stringify({ OK: true, Error: null, Result: [{ Id: 1, Text: 'hi' }], Rels: {} })
    server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        if (req.url === '/app') {
          res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
          res.end(APP)
        } else if (req.url === '/public/api/v1/chats/history') {
          res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-encoding': 'gzip' })
          res.end(gzipSync(answer))
        } else if (req.url === '/public/api/v1/files/download') {
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(png.length) })
          res.end(png)
        } else {
          res.writeHead(404)
          res.end()
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const zip = join(dir, 'recorded-by-playwright.zip')
    const context = await browser.newContext({ recordHar: { path: zip, content: 'attach' } })
    const page = await context.newPage()
    await page.goto(`${base}/app`)
    await page.evaluate(
      (calls) => (globalThis as unknown as { run(c: unknown): Promise<unknown> }).run(calls),
      [
        { path: '/public/api/v1/chats/history', contentType: 'application/json', text: '{"ChatId":10,"Limit":50}' },
        { path: '/public/api/v1/files/download', contentType: 'application/json', text: '{"Id":"avatar.png"}' },
      ],
    )
    await context.close() // writes the zip

    const result = await importHar(zip, { dir: join(dir, 'from-playwright') })
    expect(result.warnings).toEqual([])
    expect(result.exchanges).toBe(2)
    expect(result.entries).toBe(result.exchanges + result.leftOut)
    const session = await new SessionStore(join(dir, 'from-playwright')).read(result.session)
    expect(session.recording.tool).toMatch(/^Playwright\//)
    const [history, download] = session.exchanges as [Exchange, Exchange]
    expect(history.request.body).toEqual({ kind: 'json', json: { ChatId: 10, Limit: 50 }, contentType: 'application/json', size: 24 })
    expect(history.response!.body).toMatchObject({ kind: 'json', json: JSON.parse(answer) })
    expect(history.response!.contentEncoding).toBe('gzip')
    expect(bodyBytes(download.response!.body).equals(png)).toBe(true)
  })
})
