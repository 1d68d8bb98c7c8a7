/**
 * Browser tests of the sessions list and the exchange list: broken sessions, filters, keyboard,
 * live rows while a recorder appends, and a 10,000-exchange session.
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { SessionStore, type SessionWriter } from '../store/store.js'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'
import { listExchange, writeLongSession } from './helpers/viewer-ui-sessions.js'

let browser: Browser
let viewer: RunningViewer
let dir: string
let fixture: BrowserFixture | undefined
let writer: SessionWriter | null = null

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    await writeLongSession(dir, 'long', 10_000)
  })
  ;({ browser, viewer, dir } = fixture)
}, 120_000)

afterEach(async () => {
  await writer?.close()
  writer = null
})

afterAll(() => fixture?.close())

const rowSeqs = async (page: import('playwright-core').Page): Promise<number[]> =>
  (await page.locator('[data-testid=exchange-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))))).sort((a, b) => a - b)

// A browser on a shared 2-core machine: generous bounds per test (each still ends).
describe('viewer UI: lists', { timeout: 90_000 }, () => {
  it('lists a session that fails validation with its error, and the others still open', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(viewer.url)
    const invalid = page.locator('[data-testid=session-row][data-name=invalid] [data-testid=session-invalid]')
    await poll(() => deepText(invalid)).toContain('$.exchanges[0].seq')
    expect(await deepText(page.locator('[data-testid=session-row][data-name=truncated]'))).toContain('Cannot open')
    expect(await page.locator('[data-testid=session-row][data-name=invalid] a').count()).toBe(0)
    await page.locator('session-list a', { hasText: 'example' }).click()
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    expect(problems).toEqual([])
    await page.close()
  })

  it('warms up the exchange view out of sight once the first rows show: nothing fetched for it, nothing left behind', async () => {
    const { page, problems } = await newPage(browser)
    const requested: string[] = []
    page.on('request', (r) => requested.push(decodeURIComponent(r.url())))
    // Watch the document's own children from the first script on: the stand-in lives there, briefly.
    await page.addInitScript(`new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) if (n.nodeType === 1 && n.querySelector && n.querySelector('exchange-view')) window.__standIn = { hidden: getComputedStyle(n).visibility, ariaHidden: n.getAttribute('aria-hidden') } }).observe(document, { childList: true, subtree: true })`)
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    await poll(() => page.evaluate('window.__standIn ?? null')).toEqual({ hidden: 'hidden', ariaHidden: 'true' })
    // Removed after its frames; the page shows no exchange until one is opened.
    await poll(() => page.evaluate('document.body.querySelectorAll(":scope > div > exchange-view").length')).toBe(0)
    expect(await page.locator('exchange-view').count()).toBe(0)
    expect(requested.filter((u) => u.includes('prewarm') || u.includes('\u0000'))).toEqual([])
    expect(problems).toEqual([])
    await page.close()
  })

  it('filters ok:false to the envelope errors and transport failures, and keeps the filter in the link', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    // `/` focuses the filter box from anywhere.
    await page.keyboard.press('/')
    await page.keyboard.type('ok:false')
    await poll(() => rowSeqs(page)).toEqual([3, 8])
    expect(decodeURIComponent(new URL(page.url()).hash)).toBe('#/sessions/example?q=ok:false')
    await page.locator('[data-testid=filter]').fill('identity:identity-2')
    await poll(() => rowSeqs(page)).toEqual([2])
    await page.locator('[data-testid=filter]').fill('error:ACCESS')
    await poll(() => rowSeqs(page)).toEqual([3])
    await page.locator('[data-testid=filter]').fill('path:/files/ -status:200')
    await poll(() => rowSeqs(page)).toEqual([])
    await page.locator('[data-testid=filter]').fill('path:/files/ ok:true')
    await poll(() => rowSeqs(page)).toEqual([10])
    // The filtered view is a link too.
    await page.goto(`${viewer.url}#/sessions/example?q=${encodeURIComponent('ok:false')}`)
    await page.reload()
    await poll(() => rowSeqs(page)).toEqual([3, 8])
    expect(problems).toEqual([])
    await page.close()
  })

  it('moves with j/k and arrows and opens with Enter', async () => {
    const { page } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/1`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    await page.keyboard.press('j')
    await page.keyboard.press('j')
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('k')
    await poll(() => page.locator('[data-testid=exchange-row].cursor').getAttribute('data-seq')).toBe('3')
    await page.keyboard.press('Enter')
    await poll(() => new URL(page.url()).hash).toBe('#/sessions/example/exchanges/3')
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('ACCESS_DENIED')
    await page.close()
  })

  it('shows a row live when the recorder appends an exchange to the open session', async () => {
    const store = new SessionStore(dir)
    writer = await store.open('live', { recording: { tool: 'reltape/test', mode: 'reverse', upstream: 'https://api.example.test' }, warn: () => {} })
    writer.append(listExchange(writer.nextSeq()))
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/live`)
    await poll(() => rowSeqs(page)).toEqual([1])
    await poll(() => page.locator('[data-testid=live].on').count()).toBe(1)
    writer.append(listExchange(writer.nextSeq(), { errorEvery: 2 }))
    await poll(() => rowSeqs(page)).toEqual([1, 2])
    expect(await page.locator('[data-testid=exchange-row][data-seq="2"]').getAttribute('class')).toContain('err')
    expect(problems).toEqual([])
    await page.close()
  })

  it('a link to an exchange or session that does not exist says so in the error notifier, with its code', async () => {
    const { page } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/999`)
    const toast = page.locator('[data-testid=error-toast]')
    await poll(() => deepText(toast)).toContain('EXCHANGE_NOT_FOUND')
    expect(await deepText(toast)).toContain('has no exchange 999')
    expect(await deepText(page.locator('[data-testid=exchange-failed]'))).toContain('Could not load exchange #999')
    // The list itself still works.
    expect(await page.locator('[data-testid=exchange-row]').count()).toBe(11)
    await page.goto(`${viewer.url}#/sessions/nope`)
    await poll(() => deepText(page.locator('[data-testid=error-toast]').last())).toContain('SESSION_NOT_FOUND')
    await page.close()
  })

  it('opens a 10,000-exchange session, renders only the rows in view, and scrolls to the last one', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/long`)
    await poll(() => deepText(page.locator('[data-testid=counts]')), 90_000).toMatch(/^10,000 · 103 errors/)
    const rendered = await page.locator('[data-testid=exchange-row]').count()
    expect(rendered).toBeGreaterThan(10)
    expect(rendered).toBeLessThan(150)
    expect(await page.locator('[data-testid=exchange-row][data-seq="10000"]').count()).toBe(0)
    await page.locator('[data-testid=exchange-scroller]').evaluate((el) => {
      el.scrollTop = el.scrollHeight
    })
    await poll(() => page.locator('[data-testid=exchange-row][data-seq="10000"]').count()).toBe(1)
    expect(await page.locator('[data-testid=exchange-row]').count()).toBeLessThan(150)
    // The keyboard reaches the end too, and opening the last row loads its body on demand.
    await page.keyboard.press('G')
    await page.keyboard.press('Enter')
    await poll(() => deepText(page.locator('[data-testid=result-tree]'))).toContain('message 10000')
    // Filtering 10,000 rows still answers.
    await page.locator('[data-testid=filter]').fill('ok:false')
    await poll(() => deepText(page.locator('[data-testid=counts]'))).toMatch(/^103 of 10,000/)
    expect(problems).toEqual([])
    await page.close()
  }, 150_000) // summaries arrive in ten pages; on a loaded 2-core machine that can take a while
})
