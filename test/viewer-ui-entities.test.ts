/**
 * Browser test of entity timelines: a tester follows a Rels chip to the client's timeline, opens a call from it,
 * and comes back. Real viewer server on port 0 over copies of the fixture sessions; headless Chromium.
 */
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { jsonResponse } from './helpers/exchange-factory.js'
import { appendExchange, closeSessions, makeExchange, writeBigSession } from './helpers/viewer-big-session.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  // A long session: its client is carried by 450 of 500 calls and referred to by as many.
  fixture = await openBrowserFixture(async (dir) => {
    await writeBigSession(dir, 'long', 500)
    await writeBigSession(dir, 'growing', 3)
  })
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(async () => {
  await closeSessions()
  await fixture?.close()
})

describe('viewer UI: entity timelines', { timeout: 90_000 }, () => {
  it('from a ClientId chip to the client timeline, to a call that carried it, and back', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const tree = page.locator('[data-testid=result-tree]')
    await poll(() => tree.locator('[data-testid=ref-chip][data-ref="Clients#11"]').count()).toBeGreaterThan(0)
    await tree.locator('[data-testid=chip-timeline][href$="/entities/Clients/11"]').first().click()
    expect(new URL(page.url()).hash).toBe('#/sessions/example/entities/Clients/11')
    await poll(() => deepText(page.locator('[data-testid=entity-label]'))).toContain('Client #11')
    await poll(() => page.locator('[data-testid=entity-call]').count()).toBeGreaterThan(0)
    expect(await page.locator('[data-testid=entity-version]').count()).toBeGreaterThan(0)
    // Who touched it: the identities of those calls, each with its count.
    expect(await deepText(page.locator('[data-testid=entity-identities]'))).toMatch(/identity-1 \(\d+ calls?\)/)
    // Each call links to its exchange, with the client selected there: the Rels object that carried it.
    const carry = page.locator('[data-testid=entity-call] a').first()
    expect(await carry.getAttribute('href')).toMatch(/^#\/sessions\/example\/exchanges\/\d+\?at=Rels\.Clients%5B0%5D$/)
    await carry.click()
    await poll(() => new URL(page.url()).hash).toMatch(/^#\/sessions\/example\/exchanges\/\d+\?at=/)
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('OK')
    await poll(() => page.locator('[data-testid=rels-object][data-key="Clients#11"]').getAttribute('class')).toContain('selected')
    // Back to the timeline, then back to where the tester started.
    await page.goBack()
    await poll(() => new URL(page.url()).hash).toBe('#/sessions/example/entities/Clients/11')
    await poll(() => deepText(page.locator('[data-testid=entity-label]'))).toContain('Client #11')
    // A call that referred to it opens with the referring object selected (the user whose ClientId it is).
    const ref = page.locator('[data-testid=entity-ref] a[href*="at=Rels.Users"]').first()
    await ref.click()
    await poll(() => page.locator('[data-testid=rels-object][data-key="Users#1"]').getAttribute('class')).toContain('selected')
    await page.goBack()
    await poll(() => new URL(page.url()).hash).toBe('#/sessions/example/entities/Clients/11')
    await page.goBack()
    await poll(() => new URL(page.url()).hash).toBe('#/sessions/example/exchanges/2')
    await poll(() => tree.locator('[data-testid=ref-chip][data-ref="Clients#11"]').count()).toBeGreaterThan(0)
    expect(problems).toEqual([])
    await page.close()
  })

  it('the Rels panel links each object to its timeline, and the entity list filters by type and text', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const link = page.locator('[data-testid=rels-object][data-key="Users#1"] [data-testid=timeline-link]')
    await poll(() => link.count()).toBe(1)
    await link.click()
    expect(new URL(page.url()).hash).toBe('#/sessions/example/entities/Users/1')
    await poll(() => deepText(page.locator('[data-testid=entity-label]'))).toContain('User #1')
    await page.locator('[data-testid=entities-link]').click()
    expect(new URL(page.url()).hash).toBe('#/sessions/example/entities')
    const rows = page.locator('[data-testid=entity-row]')
    await poll(() => rows.count()).toBeGreaterThan(1)
    await page.locator('[data-testid=entity-type]').selectOption('Clients')
    await poll(async () => (await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).every((k) => k?.startsWith('Clients#'))).toBe(true)
    await page.locator('[data-testid=entity-filter]').fill('11')
    await poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toEqual(['Clients#11'])
    // The fixture's client was later renamed to markup: a label is text, never HTML.
    expect(await deepText(rows.first())).toContain('<img src=x onerror=alert(1)>')
    expect(await page.locator('entity-view').evaluate((el) => el.shadowRoot!.querySelectorAll('img, script').length)).toBe(0)
    expect(problems).toEqual([])
    await page.close()
  })

  it('an entity carried by hundreds of calls shows the first 200 of each table, and the rest on asking', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/long/entities/Clients/11`)
    await poll(() => deepText(page.locator('[data-testid=entity-calls]'))).toBe('450')
    const carried = page.locator('[data-testid=entity-call]')
    await poll(() => carried.count()).toBe(200)
    expect(await page.locator('[data-testid=entity-ref]').count()).toBe(200)
    await page.locator('[data-testid=entity-more-carried]').click()
    await poll(() => carried.count()).toBe(450)
    expect(await page.locator('[data-testid=entity-more-carried]').count()).toBe(0)
    // The last call listed is the session's last that carried it.
    expect(await deepText(carried.last().locator('a'))).toBe('#499')
    expect(await page.locator('[data-testid=entity-ref]').count()).toBe(200)
    expect(problems).toEqual([])
    await page.close()
  })

  it('follows a session as it is recorded: a new entity joins the list, a new call joins its page', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/growing/entities`)
    const rows = page.locator('[data-testid=entity-row]')
    await poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toContain('Clients#11')
    expect(await page.locator('[data-testid=entity-row][data-key="Clients#77"]').count()).toBe(0)
    const newcomer = { OK: true, Error: null, Result: [], Rels: { Clients: [{ Id: 77, Name: 'Came later' }] } }
    await appendExchange(fixture!.dir, 'growing', makeExchange(4, { response: jsonResponse(newcomer) }))
    await poll(() => page.locator('[data-testid=entity-row][data-key="Clients#77"]').count()).toBe(1)
    // Its page, then one more call carrying it.
    await page.locator('[data-testid=entity-row][data-key="Clients#77"] a').first().click()
    await poll(() => deepText(page.locator('[data-testid=entity-calls]'))).toBe('1')
    await appendExchange(fixture!.dir, 'growing', makeExchange(5, { response: jsonResponse(newcomer) }))
    await poll(() => deepText(page.locator('[data-testid=entity-calls]'))).toBe('2')
    // Another session's list is that session's, not the one shown before.
    await page.evaluate("location.hash = '#/sessions/long/entities'")
    await poll(() => rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-key')))).toEqual(['Clients#11', 'Chats#10'])
    expect(problems).toEqual([])
    await page.close()
  })
})
