/**
 * Browser tests of the viewer's access token: the page opened from the printed link lists sessions, opens an
 * exchange and follows live updates, with the token kept out of its address bar; a page opened without it, or with
 * another run's, says to open the printed link instead of showing an empty list.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture()
  ;({ browser, viewer } = fixture)
}, 120_000)
afterAll(() => fixture?.close())

/** The viewer's address with no token: what a user types, or a deep link copied from the address bar. */
const bare = (hash = '') => `${new URL(viewer.url).origin}/${hash}`

describe('viewer UI: the access token', { timeout: 90_000 }, () => {
  it('the page opened from the printed link lists sessions and opens an exchange; the address bar loses the token', async () => {
    const { page, problems } = await newPage(browser)
    expect(viewer.url).toContain('?token=')
    await page.goto(viewer.url)
    await poll(() => page.locator('[data-testid=session-row]').count()).toBeGreaterThan(1)
    // Taken out of the visible URL, kept for the tab: a copied deep link does not carry it.
    expect(page.url()).toBe(bare())
    expect(await page.evaluate("sessionStorage.getItem('reltape.viewer-token')")).toBe(viewer.token)
    await page.locator('session-list a', { hasText: 'example' }).click()
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    await page.locator('[data-testid=exchange-row][data-seq="2"]').click()
    await poll(() => page.locator('[data-testid=result-tree]').count()).toBe(1)
    expect(page.url()).toBe(bare('#/sessions/example/exchanges/2'))
    // A reload of that deep link in the same tab still works: the tab kept the token.
    await page.reload()
    await poll(() => page.locator('[data-testid=result-tree]').count()).toBe(1)
    expect(await page.locator('[data-testid=token-required]').count()).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })

  it('the printed link with a deep link after it opens that exchange, and its live stream connects', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/3`)
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('ACCESS_DENIED')
    expect(page.url()).toBe(bare('#/sessions/example/exchanges/3'))
    // The session's event stream (EventSource, token in its query) is open.
    await poll(() => page.locator('session-view').evaluate((el) => (el as unknown as { _live: boolean })._live)).toBe(true)
    expect(problems).toEqual([])
    await page.close()
  })

  it('a page opened without the token says to open the printed link, instead of an empty list', async () => {
    const { page } = await newPage(browser)
    await page.goto(bare())
    const lock = page.locator('[data-testid=token-required]')
    await poll(() => lock.count()).toBe(1)
    expect(await deepText(lock)).toContain('open the link that `reltape view` (or `reltape demo`) printed')
    expect(await deepText(lock)).toContain('VIEWER_TOKEN_REQUIRED')
    expect(await page.locator('[data-testid=session-row]').count()).toBe(0)
    expect(await deepText(page.locator('reltape-app'))).not.toContain('No sessions yet')
    // Said once, in the page, not repeated as a toast per refused call.
    expect(await page.locator('[data-testid=error-toast]').count()).toBe(0)
    await page.close()
  })

  it('a deep link without the token, or with another run\'s, shows the message and nothing recorded', async () => {
    const { page } = await newPage(browser)
    await page.goto(bare('#/sessions/example/exchanges/1'))
    const lock = page.locator('[data-testid=token-required]')
    await poll(() => lock.count()).toBe(1)
    expect(await page.locator('exchange-view').count()).toBe(0)
    expect(await deepText(page.locator('reltape-app'))).not.toContain('client-session')
    // A tab left open across a restart of the viewer: its stored token is another run's.
    await page.goto(`${bare()}?token=${'A'.repeat(43)}#/sessions/example`)
    await poll(() => deepText(lock)).toContain('not the viewer')
    expect(await deepText(lock)).toContain('open the link')
    expect(page.url()).toBe(bare('#/sessions/example'))
    expect(await page.locator('[data-testid=exchange-row]').count()).toBe(0)
    await page.close()
  })
})
