import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startSandbox, type Sandbox } from '../sandbox/index.js'
import { loadOrCreateCA } from '../store/ca.js'

describe('the sandbox app page in headless Chromium', () => {
  let home: string
  let sandbox: Sandbox
  let browser: Browser
  const lines: string[] = []

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'reltape-sandbox-browser-'))
    sandbox = await startSandbox({ home, log: (l) => lines.push(l) })
    const { spkiFingerprint } = await loadOrCreateCA(home)
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', `--ignore-certificate-errors-spki-list=${spkiFingerprint}`,
      ],
    })
  })
  afterAll(async () => {
    await browser?.close()
    await sandbox?.close()
    if (home) await rm(home, { recursive: true, force: true })
  })

  it('calls the API cross-origin (preflight, then POSTs with the Authorization header) and shows the results as text', async () => {
    const page = await browser.newPage()
    await page.goto(sandbox.appUrl)
    // A string expression: this file is typechecked without the DOM library.
    await page.waitForFunction("document.getElementById('status').textContent !== 'running'", undefined, { timeout: 15_000 })
    const status = await page.textContent('#status')
    expect(status, `${await page.textContent('#log')}\n${lines.join('\n')}`).toBe('done')
    expect(await page.title()).toBe('done')
    const log = (await page.textContent('#log')) ?? ''
    expect(log).toContain('chats/channel/send/support: OK')
    expect(log).toContain('tickets/close: Error TicketClosed')
    expect(log).toContain('client: Hello from the sandbox app')
    expect(lines.some((l) => l.startsWith('OPTIONS /public/api/v1/chats/history preflight from http://localhost:'))).toBe(true)
    expect(lines).toContain('POST /public/api/v1/chats/channel/send/support customer OK')
    // Multipart upload and binary downloads from the browser too; the avatar PNG decodes as an image.
    expect(log).toMatch(/files\/upload: OK [0-9a-f-]+\.txt/)
    expect(log).toContain('files/download: text/plain 28 bytes')
    expect(log).toMatch(/files\/download: image\/png \d+ bytes/)
    expect(log).toContain('avatar: 32x32')
    await page.close()
  })
})
