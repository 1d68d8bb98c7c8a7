/**
 * Real clients through the recorder: curl with reltape's CA, headless Chromium loading a page that calls the API
 * cross-origin (so its preflights are recorded), and plain fetch against the reverse proxy.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromiumArgs } from '../recorder/launch.js'
import { SANDBOX_TOKENS, startSandbox, type Sandbox } from '../sandbox/index.js'
import { startRecorderEnv, tempDir, type RecorderEnv } from './helpers/recorder-env.js'

const run = promisify(execFile)

let home: string
let sandbox: Sandbox

beforeAll(async () => {
  home = await tempDir('rec-clients-home')
  sandbox = await startSandbox({ port: 0, home })
})
afterAll(async () => {
  await sandbox?.close()
})

describe('curl through the forward proxy', () => {
  let env: RecorderEnv
  beforeAll(async () => {
    env = await startRecorderEnv({ session: 'curl' }, home)
  })
  afterAll(async () => {
    await env?.close()
  })

  it('records a call made with curl --proxy … --cacert …', async () => {
    const { stdout } = await run(
      'curl',
      ['-sS', '--compressed', '--proxy', env.rec.url, '--cacert', env.rec.ca.certPath, '-H', `Authorization: Client ${SANDBOX_TOKENS.operator}`, '-H', 'Content-Type: application/json', '-d', '{"From":"curl"}', `${sandbox.url}/public/api/v1/chats/history`],
      { timeout: 20_000 },
    )
    expect(JSON.parse(stdout).OK).toBe(true)
    await env.rec.settle()
    const [e] = (await env.session()).exchanges
    expect(e?.request.body).toMatchObject({ kind: 'json', json: { From: 'curl' } })
    expect(e?.request.headers.find(([n]) => n.toLowerCase() === 'user-agent')?.[1]).toMatch(/^curl\//)
    expect(e?.request.auth).toEqual({ via: 'authorization', identity: 'identity-1' })
    expect(e?.response?.contentEncoding).toBe('gzip')
  })

  it("tells once, with the fix, when a client does not trust reltape's CA", async () => {
    const attempt = () => run('curl', ['-sS', '--proxy', env.rec.url, '-d', '{}', `${sandbox.url}/public/api/v1/chats/history`], { timeout: 20_000 }).catch((e: Error) => e)
    expect(await attempt()).toBeInstanceOf(Error)
    expect(await attempt()).toBeInstanceOf(Error)
    await env.rec.settle()
    const notices = env.logs.filter((l) => l.startsWith('TLS:'))
    expect(notices).toHaveLength(1)
    expect(notices[0]).toContain('does not trust')
    expect(notices[0]).toContain(env.rec.ca.certPath)
  })
})

describe('headless Chromium with the proxy and the CA fingerprint', () => {
  let env: RecorderEnv
  let browser: Browser
  beforeAll(async () => {
    env = await startRecorderEnv({ session: 'browser' }, home)
    // The flags `reltape record --launch` uses, minus the profile and the page (playwright brings its own).
    const flags = chromiumArgs({ proxyUrl: env.rec.url, spkiFingerprint: env.rec.ca.spkiFingerprint }, '-').filter(
      (a) => a.startsWith('--proxy') || a.startsWith('--ignore-certificate-errors-spki-list'),
    )
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...flags],
    })
  })
  afterAll(async () => {
    await browser?.close()
    await env?.close()
  })

  it('records the cross-origin API calls and their preflights, not the page itself', async () => {
    const page = await browser.newPage()
    await page.goto(sandbox.appUrl)
    await page.waitForFunction("document.getElementById('status').textContent !== 'running'", undefined, { timeout: 20_000 })
    expect(await page.textContent('#status')).toBe('done')
    await page.close()
    await env.rec.settle()
    const s = await env.session()
    const preflights = s.exchanges.filter((e) => e.request.method === 'OPTIONS')
    const posts = s.exchanges.filter((e) => e.request.method === 'POST')
    expect(preflights.length).toBeGreaterThan(0)
    expect(preflights[0]?.request.headers.some(([n]) => n.toLowerCase() === 'access-control-request-method')).toBe(true)
    expect(posts.some((e) => e.request.url.endsWith('/public/api/v1/chats/channel/send/support'))).toBe(true)
    expect(posts.some((e) => e.request.headers.some(([n, v]) => n.toLowerCase() === 'origin' && v.startsWith('http://localhost:')))).toBe(true)
    expect(s.exchanges.some((e) => e.request.url.startsWith(sandbox.appUrl))).toBe(false)
    expect(env.rec.stats().skipped).toBeGreaterThan(0)
    expect(s.exchanges.map((e) => e.seq)).toEqual(s.exchanges.map((_e, i) => i + 1))
  })
})

describe('reverse proxy: the app points at reltape, no CA needed', () => {
  let env: RecorderEnv
  beforeAll(async () => {
    env = await startRecorderEnv({ session: 'reverse', upstream: sandbox.url }, home)
  })
  afterAll(async () => {
    await env?.close()
  })

  it('records plain fetch calls made to the recorder', async () => {
    const res = await fetch(`${env.rec.url}/public/api/v1/chats/history`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: `client-session=${SANDBOX_TOKENS.customer}` },
      body: '{}',
    })
    expect(((await res.json()) as { OK: boolean }).OK).toBe(true)
    await env.rec.settle()
    const s = await env.session()
    expect(s.recording).toMatchObject({ mode: 'reverse', upstream: sandbox.url })
    expect(s.exchanges).toHaveLength(1)
    expect(s.exchanges[0]?.request.url).toBe(`${env.rec.url}/public/api/v1/chats/history`)
    expect(s.exchanges[0]?.response?.body).toMatchObject({ kind: 'json', json: { OK: true } })
  })
})
