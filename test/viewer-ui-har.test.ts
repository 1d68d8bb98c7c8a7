/**
 * Browser tests of HAR in the session view: "Export HAR" downloads the session as HAR (tokens masked; the live ones
 * only after the user confirms), and a session imported from a HAR that omitted bodies shows the import's warnings.
 */
import { readFile } from 'node:fs/promises'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { runCli } from './helpers/cli.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'

const HTTPTOOLKIT = new URL('./fixtures/har/httptoolkit.har', import.meta.url).pathname
const TOKEN = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    const r = runCli(['import', HTTPTOOLKIT, '--dir', dir, '--session', 'from-har'])
    if (r.code !== 0) throw new Error(`reltape import failed: ${r.stderr}`)
  })
  ;({ browser, viewer } = fixture)
}, 180_000)
afterAll(() => fixture?.close())

type Har = { log: { entries: { _reltape: { seq: number } }[] } }

/** Clicks a button of the header and reads the HAR the browser downloads. */
async function download(page: Page, testid: string): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download', { timeout: 20_000 }), page.locator(`[data-testid=${testid}]`).click()])
  const path = await d.path()
  return { name: d.suggestedFilename(), text: await readFile(path, 'utf8') }
}

describe('viewer UI: HAR', { timeout: 90_000 }, () => {
  it('"Export HAR" downloads the session as HAR with every exchange and no raw token', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    const { name, text } = await download(page, 'export-har')
    expect(name).toBe('example.har')
    const har = JSON.parse(text) as Har
    expect(har.log.entries.map((e) => e._reltape.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    expect(text).not.toContain(TOKEN)
    expect(text).toContain('<identity-1>')
    expect(problems).toEqual([])
    await page.close()
  })

  it('"with tokens…" asks first; confirmed, the HAR holds the live tokens', async () => {
    const page = await browser.newPage({ acceptDownloads: true })
    page.setDefaultTimeout(10_000)
    const asked: string[] = []
    page.on('dialog', (d) => {
      asked.push(d.message())
      void d.accept()
    })
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    const { name, text } = await download(page, 'export-har-reveal')
    expect(asked).toHaveLength(1)
    expect(asked[0]).toContain('live tokens')
    expect(name).toBe('example.with-tokens.har')
    expect((JSON.parse(text) as Har).log.entries).toHaveLength(11)
    expect(text).toContain(TOKEN)
    await page.close()
  })

  it('a session imported from a HAR that omitted bodies shows the warnings, collapsed until opened', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/from-har`)
    const notice = page.locator('[data-testid=import-warnings]')
    await poll(() => notice.count()).toBe(1)
    expect(await deepText(notice.locator('summary'))).toContain('2 warnings')
    expect(await notice.locator('li').first().isVisible()).toBe(false)
    await notice.locator('summary').click()
    await poll(() => notice.locator('li').first().isVisible()).toBe(true)
    expect(await deepText(notice)).toContain('log.entries[1].response.content: no content (65536 bytes declared); stored as omitted')
    // A recorded session has none.
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    expect(await page.locator('[data-testid=import-warnings]').count()).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })
})
