/**
 * Browser tests of what the viewer must never do with recorded content (run it as HTML or script, show a token
 * unasked) and of bodies that are not plain JSON: HTML, SVG, truncated, huge, images.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'
import { listExchange, sessionOf } from './helpers/viewer-ui-sessions.js'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

const TOKEN = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    // About 0.8 MB of JSON: under the server's 2 MB cut, so the whole body reaches the tree.
    const items = Array.from({ length: 15_000 }, (_, i) => ({ Id: i + 1, ClientId: 11, Text: `item ${i + 1} of a long history` }))
    // And about 3.4 MB: over it, so the server sends only its start, as text.
    const huge = Array.from({ length: 60_000 }, (_, i) => ({ Id: i + 1, ClientId: 11, Text: `item ${i + 1} of a long history` }))
    await writeFile(join(dir, 'bigbody.json'), JSON.stringify(sessionOf('bigbody', [listExchange(1, { result: items }), listExchange(2, { result: huge })])))
  })
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(() => fixture?.close())

/** Elements anywhere in the page, shadow roots included. */
function deepCount(page: Page, selector: string): Promise<number> {
  return page.evaluate((sel) => {
    // Structural DOM types: the Node-side tsconfig has no DOM lib.
    type Root = { querySelectorAll(s: string): ArrayLike<{ shadowRoot: Root | null }> }
    let n = 0
    const walk = (root: Root): void => {
      n += root.querySelectorAll(sel).length
      for (const el of Array.from(root.querySelectorAll('*'))) if (el.shadowRoot) walk(el.shadowRoot)
    }
    walk((globalThis as unknown as { document: Root }).document)
    return n
  }, selector)
}

async function markPwned(page: Page): Promise<void> {
  // A recorded `alert(1)` that ran would open a dialog (newPage records it); `__pwned` catches a quieter payload.
  await page.addInitScript(() => {
    Object.defineProperty(globalThis, '__pwned', { value: false, writable: true })
  })
}

// A browser on a shared 2-core machine: generous bounds per test (each still ends).
describe('viewer UI: recorded content is data', { timeout: 90_000 }, () => {
  it('a body holding <img onerror> and <script> shows as text in every tab and never runs', async () => {
    const { page, problems } = await newPage(browser)
    await markPwned(page)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/5`)
    const tree = page.locator('[data-testid=result-tree]')
    await poll(() => deepText(tree)).toContain('<script>alert(1)</script>')
    await page.locator('[data-testid=ref-chip]').first().click()
    await poll(() => deepText(tree)).toContain('onerror=alert(1)')
    for (const tab of ['request', 'response', 'headers', 'raw']) {
      await page.locator(`[role=tab][data-tab=${tab}]`).click()
      await poll(() => page.locator('[role=tab][aria-selected=true]').getAttribute('data-tab')).toBe(tab)
    }
    await poll(() => deepText(page.locator('[data-testid=raw-response]'))).toContain('<img src=x onerror=alert(1)>')
    // Recorded HTML and SVG documents: shown as text.
    await page.goto(`${viewer.url}#/sessions/example/exchanges/6/response`)
    await poll(() => deepText(page.locator('[data-testid=body-text]'))).toContain('<script>alert(1)</script>')
    await page.goto(`${viewer.url}#/sessions/example/exchanges/7/response`)
    await poll(() => deepText(page.locator('[data-testid=body-text]'))).toContain('onload="alert(1)"')
    await page.waitForTimeout(300) // give an injected onerror/onload the chance to fire, if one had got in
    expect(await deepCount(page, 'img[src=x], script:not([src]), svg[onload]')).toBe(0)
    expect(await page.evaluate(() => (globalThis as unknown as { __pwned: boolean }).__pwned)).toBe(false)
    expect(problems).toEqual([])
    await page.close()
  })

  it('masks the session token in the request, headers, raw and cURL views until it is revealed', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/1/request`)
    const token = page.locator('[data-testid=token]')
    await poll(() => deepText(token)).toBe('973b…71ee')
    expect(await deepText(page.locator('[data-testid=auth]'))).toContain('identity-1')
    await page.locator('exchange-view button', { hasText: 'Show cURL' }).click()
    const curl = await deepText(page.locator('[data-testid=curl]'))
    expect(curl).toContain("-H 'Cookie: client-session=973b…71ee'")
    expect(curl).toContain('--data-raw')
    expect(curl).not.toContain(TOKEN)
    await page.locator('[role=tab][data-tab=headers]').click()
    await poll(() => deepText(page.locator('exchange-view'))).toContain('client-session=973b…71ee')
    await page.locator('[role=tab][data-tab=raw]').click()
    await poll(() => deepText(page.locator('[data-testid=raw-request]'))).toContain('Cookie: client-session=973b…71ee')
    expect(await deepText(page.locator('exchange-view'))).not.toContain(TOKEN)
    await page.locator('[data-testid=reveal]').click()
    await poll(() => deepText(page.locator('[data-testid=raw-request]'))).toContain(`client-session=${TOKEN}`)
    expect(await deepText(page.locator('[data-testid=curl]'))).toContain(TOKEN)
    expect(problems).toEqual([])
    await page.close()
  })

  it('previews a recorded PNG through the inline raster endpoint and offers bodies for download', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/4`)
    const img = page.locator('[data-testid=image-preview]')
    await poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(1)
    // The browser fetches these itself, so they carry the access token in their query.
    expect(await img.getAttribute('src')).toBe(`api/sessions/example/exchanges/4/raw/response?inline=1&token=${viewer.token}`)
    expect(await page.locator('[data-testid=download]').getAttribute('href')).toBe(`api/sessions/example/exchanges/4/raw/response?token=${viewer.token}`)
    // A multipart upload lists its parts.
    await page.goto(`${viewer.url}#/sessions/example/exchanges/10/request`)
    await poll(() => deepText(page.locator('exchange-view body-view'))).toContain('file note.txt')
    expect(problems).toEqual([])
    await page.close()
  })

  it('shows a truncated, non-JSON body raw, and a transport failure as such', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/9`)
    // The recorder cut this 4.8 MB body, so it is text, and too large for the server to send whole.
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('(4.8 MB) is too large to show as an envelope')
    expect(await deepText(page.locator('[data-testid=truncated]'))).toContain('4.8 MB')
    expect(await deepText(page.locator('[data-testid=body-text]'))).toMatch(/^\{"OK":true,"Error":null,"Result":\[/)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/8`)
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('UPSTREAM_UNREACHABLE')
    // A JSON body that is not an envelope is shown as it is.
    await page.goto(`${viewer.url}#/sessions/example/exchanges/11`)
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('not an envelope')
    expect(await deepText(page.locator('envelope-view body-view'))).toContain('"1.2.3"')
    expect(problems).toEqual([])
    await page.close()
  })

  it('a 15,000-item Result renders lazily (100 items first, more on request, fields only when opened); a 3.4 MB one shows its start raw', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/bigbody/exchanges/1`)
    const tree = page.locator('[data-testid=result-tree]')
    await poll(() => deepText(tree), 30_000).toContain('15000 items')
    const rows = () => tree.locator('.row').count()
    expect(await rows()).toBeLessThan(150)
    expect(await deepText(tree)).not.toContain('item 101 of')
    await tree.locator('button.more').click()
    await poll(() => rows()).toBeGreaterThan(1000)
    expect(await rows()).toBeLessThan(1200)
    // The page still answers.
    expect(await page.evaluate(() => 1 + 1)).toBe(2)
    // A body over the server's limit arrives cut, as text: shown as such, with the way to the whole of it.
    await page.goto(`${viewer.url}#/sessions/bigbody/exchanges/2`)
    await poll(() => deepText(page.locator('[data-testid=banner]')), 30_000).toContain('too large to show as an envelope')
    expect(await deepText(page.locator('[data-testid=truncated]'))).toContain('too large to show whole')
    expect(await deepText(page.locator('[data-testid=body-text]'))).toMatch(/^\{\s*"OK": true,\s*"Error": null,\s*"Result": \[\s*\{\s*"Id": 1,/)
    expect(await page.locator('[data-testid=download]').getAttribute('href')).toBe(`api/sessions/bigbody/exchanges/2/raw/response?token=${viewer.token}`)
    expect(problems).toEqual([])
    await page.close()
  }, 60_000)
})
