/**
 * `--launch`: Chromium started by the recorder's own launcher (fresh profile, the proxy, the CA by SPKI) reaches a
 * loopback page through the proxy and its API calls are recorded. Headless here; a tester gets a window.
 */
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BROWSER_HOUSEKEEPING } from '../store/traffic-filter.js'
import { BrowserNotFoundError, launchChromium, type LaunchedBrowser } from '../recorder/launch.js'
import { startSandbox, type Sandbox } from '../sandbox/index.js'
import { startRecorderEnv, tempDir, until, type RecorderEnv } from './helpers/recorder-env.js'

let sandbox: Sandbox
let env: RecorderEnv
let browser: LaunchedBrowser | undefined

beforeAll(async () => {
  const home = await tempDir('rec-launch-home')
  sandbox = await startSandbox({ port: 0, home })
  // As `reltape record --launch` does: the browser's housekeeping hosts are excluded.
  env = await startRecorderEnv({ session: 'launch', exclude: BROWSER_HOUSEKEEPING }, home)
})
afterAll(async () => {
  await browser?.close()
  await env?.close()
  await sandbox?.close()
})

describe('reltape record --launch', () => {
  it('starts Chromium with a fresh profile whose API traffic is recorded, and removes the profile on close', async () => {
    browser = launchChromium({
      proxyUrl: env.rec.url,
      spkiFingerprint: env.rec.ca.spkiFingerprint,
      url: sandbox.appUrl,
      extraArgs: ['--headless=new', '--no-sandbox', '--disable-gpu'],
    })
    await until(async () => (await env.session()).exchanges.some((e) => e.request.url.endsWith('/files/upload')), 'the app page to call the API', 25_000)
    const s = await env.session()
    expect(s.exchanges.some((e) => e.request.method === 'OPTIONS')).toBe(true)
    const api = s.exchanges.filter((e) => e.request.url.startsWith(sandbox.url))
    expect(api.filter((e) => e.error).map((e) => [e.request.method, e.request.url, e.error])).toEqual([])
    // The browser's own calls home stay out of the recording.
    expect(s.exchanges.filter((e) => !e.request.url.startsWith(sandbox.url)).map((e) => e.request.url)).toEqual([])
    const profile = browser.profileDir
    expect(existsSync(profile)).toBe(true)
    await browser.close()
    browser = undefined
    expect(existsSync(profile)).toBe(false)
  }, 40_000)

  it('says how to get Chromium when it is not there', () => {
    expect(() => launchChromium({ proxyUrl: null, spkiFingerprint: 'x', executable: '/nonexistent/chromium' })).toThrow(BrowserNotFoundError)
  })
})
