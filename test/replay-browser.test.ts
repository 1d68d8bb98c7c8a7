import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReplay, type ReplayHandle } from '../replay/start-replay.js'
import { CHAT_STORY, PATHS } from './fixtures/replay/helpers.js'

// A web app on another origin: it POSTs JSON with credentials, so the browser sends a CORS preflight first.
function appPage(apiUrl: string): string {
  return `<!doctype html><meta charset="utf-8"><title>chat app</title>
<pre id="out">pending</pre>
<script>
  async function call(path, body) {
    const res = await fetch(${JSON.stringify(apiUrl)} + path, {
      method: 'POST',
      credentials: 'include',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    })
    return { status: res.status, body: await res.json() }
  }
  (async () => {
    const localId = Date.now()
    const sent = await call(${JSON.stringify(PATHS.send)}, { LocalId: localId, Payload: 'text', Text: '!' })
    const history = await call(${JSON.stringify(PATHS.history)}, { ChatId: 10 })
    document.getElementById('out').textContent = JSON.stringify({ localId, sent, history })
  })().catch((e) => { document.getElementById('out').textContent = 'failed: ' + e })
</script>`
}

let replay: ReplayHandle
let pageServer: Server
let browser: Browser
let pageUrl: string
const log: string[] = []

beforeAll(async () => {
  replay = await startReplay({ session: CHAT_STORY, log: (line) => log.push(line) })
  pageServer = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end(appPage(replay.url))
  })
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve))
  pageUrl = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}/`
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
})

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()))
  await replay?.close()
})

describe('a browser app on another origin against replay', () => {
  it('gets its preflight from the recording, then the recorded answer to its POST', async () => {
    const page = await browser.newPage()
    try {
      await page.goto(pageUrl)
      // A string runs in the page (this file has no DOM types).
      await page.waitForFunction("document.getElementById('out').textContent !== 'pending'", undefined, { timeout: 15_000 })
      const text = (await page.textContent('#out')) ?? ''
      expect(text.startsWith('failed'), text).toBe(false)
      const out = JSON.parse(text) as {
        localId: number
        sent: { status: number; body: { Result: Array<{ Id: number; LocalId: number }> } }
        history: { status: number; body: { Result: Array<{ Id: number }> } }
      }
      expect(out.sent.status).toBe(200)
      expect(out.sent.body.Result[0]).toEqual(expect.objectContaining({ Id: 255, LocalId: out.localId }))
      expect(out.history.status).toBe(200)
      expect(out.history.body.Result.map((m) => m.Id)).toEqual([252])
    } finally {
      await page.close()
    }
    // #2 is the recorded preflight of the send; the history's preflight was built from its recorded CORS headers.
    const state = replay.state()
    expect(state.used).toEqual([1, 2, 3])
    expect(replay.misses).toEqual([])
    expect(log).toContain(`HIT  OPTIONS ${PATHS.send} → #2 (preflight)`)
    expect(log).toContain(`CORS OPTIONS ${PATHS.history}: preflight answered from the recorded CORS headers of this path`)
  })
})
