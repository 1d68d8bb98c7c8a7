/**
 * Browser tests of the envelope view: a tester opens a recorded exchange and walks its Rels.
 * Real viewer server on port 0 over copies of the fixture sessions; headless Chromium.
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll, saveScreenshot } from './helpers/viewer-ui-browser.js'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture()
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(() => fixture?.close())

// A browser on a shared 2-core machine: generous bounds per test (each still ends).
describe('viewer UI: envelope view', { timeout: 90_000 }, () => {
  it('a tester opens a session from the list, then an exchange, and sees its OK banner and Result', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(viewer.url)
    await page.locator('session-list a', { hasText: 'example' }).click()
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    await page.locator('[data-testid=exchange-row][data-seq="1"]').click()
    expect(new URL(page.url()).hash).toBe('#/sessions/example/exchanges/1')
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('OK')
    await poll(() => deepText(page.locator('[data-testid=result-tree]'))).toContain('1498085875116')
    expect(problems).toEqual([])
    await page.close()
  })

  it('expanding ClientId shows the client from Rels in place, again inside it, and marks the cycle back', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const tree = page.locator('[data-testid=result-tree]')
    const chip = tree.locator('[data-testid=ref-chip][data-ref="Clients#11"]').first()
    await poll(() => deepText(chip)).toContain('Client #11 · Ivan Petrov')
    expect(await tree.locator('[data-testid=ref-body]').count()).toBe(0)
    await chip.click()
    const client = tree.locator('[data-testid=ref-body][data-ref="Clients#11"]')
    await poll(() => deepText(client)).toContain('"Ivan Petrov"')
    expect(await deepText(client)).toContain('TelegramId')
    // The client's manager is a reference again: expand it inside the client.
    await client.locator('[data-testid=ref-chip][data-ref="Users#1"]').click()
    const user = client.locator('[data-testid=ref-body][data-ref="Users#1"]')
    await poll(() => deepText(user)).toContain('Operator Anna')
    // The user's LastClientId points back at the client that is open above: marked, not followed.
    await poll(() => deepText(user.locator('[data-testid=ref-cycle]'))).toContain('↻ shown above')
    // Client 99 is not in Rels.Clients: a dangling reference.
    await poll(() => tree.locator('[data-testid=ref-dangling]').allTextContents()).toContain('⚠ dangling: no Clients #99')
    await saveScreenshot(page, 'viewer-ui-envelope-reference.png')
    expect(problems).toEqual([])
    await page.close()
  })

  it('the Rels panel counts each type and a "referenced by" link leads to the referring Result field', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const panel = page.locator('[data-testid=rels-panel]')
    await poll(() => deepText(panel.locator('[data-testid=rels-type][data-type=Files] h4'))).toContain('3')
    const client = panel.locator('[data-testid=rels-object][data-key="Clients#11"]')
    const links = await client.locator('[data-testid=backref]').allTextContents()
    expect(links).toEqual(expect.arrayContaining(['Result.ClientIds[0]', 'Result.Messages[0].ClientId', 'Users #1.LastClientId']))
    // Follow the reference that sits in another Rels object: that object is selected, opened and its field shown.
    await client.locator('[data-testid=backref]', { hasText: 'Users #1.LastClientId' }).click()
    await poll(() => deepText(page.locator('[data-testid=selection]'))).toContain('User #1 · Operator Anna')
    const user = panel.locator('[data-testid=rels-object][data-key="Users#1"]')
    await poll(() => user.getAttribute('class')).toContain('selected')
    await poll(() => deepText(user.locator('json-tree'))).toContain('LastClientId')
    // Follow the one in Result: the Result item is selected and the field is revealed in the tree.
    await client.locator('[data-testid=backref]', { hasText: 'Result.Messages[0].ClientId' }).click()
    await poll(() => deepText(page.locator('[data-testid=selection]'))).toBe('Result')
    const row = page.locator('[data-testid=result-tree] [data-path=\'["Messages",0,"ClientId"]\']')
    await poll(() => row.isVisible()).toBe(true)
    // The graph draws the selected item's neighbourhood.
    await poll(() => page.locator('[data-testid=rels-graph] .node').count()).toBeGreaterThan(2)
    expect(problems).toEqual([])
    await page.close()
  })

  it('a deep link opens the same session, exchange and tab, and the envelope Error in full', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/3`)
    const banner = page.locator('[data-testid=banner]')
    await poll(() => deepText(banner)).toContain('Error')
    const error = await page.locator('[data-testid=envelope-error]').textContent()
    expect(JSON.parse(error ?? '')).toEqual({ Code: 'ACCESS_DENIED', Message: 'You cannot close this ticket' })
    await page.goto(`${viewer.url}#/sessions/example/exchanges/1/headers`)
    await poll(() => deepText(page.locator('[role=tab][aria-selected=true]'))).toBe('Headers')
    await poll(() => deepText(page.locator('exchange-view headers-view').first())).toContain('User-Agent')
    expect(await page.locator('[data-testid=exchange-row][data-seq="1"]').getAttribute('class')).toContain('open')
    // Switching tabs updates the link, so it can be pasted into a bug report.
    await page.locator('[role=tab][data-tab=request]').click()
    expect(new URL(page.url()).hash).toBe('#/sessions/example/exchanges/1/request')
    expect(problems).toEqual([])
    await page.close()
  })

  it('expand all and collapse all open and close every level of the Result tree', async () => {
    const { page } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const tree = page.locator('[data-testid=result-tree]')
    await poll(() => deepText(tree)).toContain('Messages')
    expect(await deepText(tree)).not.toContain('Hi, how can I help?')
    await page.locator('[data-testid=expand-all]').click()
    await poll(() => deepText(tree)).toContain('Hi, how can I help?')
    await page.locator('[data-testid=collapse-all]').click()
    await poll(() => deepText(tree)).not.toContain('ClientIds')
    await page.close()
  })

  it('makes the README screenshot of the envelope view with a reference expanded', async () => {
    const { page, problems } = await newPage(browser, 1600, 1100)
    await page.goto(`${viewer.url}#/sessions/example/exchanges/2`)
    const tree = page.locator('[data-testid=result-tree]')
    await tree.locator('[data-testid=ref-chip][data-ref="Clients#11"]').first().click()
    await tree.locator('[data-testid=ref-body] [data-testid=ref-chip][data-ref="Users#1"]').first().click()
    await poll(() => tree.locator('[data-testid=ref-cycle]').count()).toBeGreaterThan(0)
    await page.locator('[data-testid=rels-object][data-key="Clients#11"] .label').click()
    await page.waitForTimeout(200) // let the flash animation settle before the picture
    const file = await saveScreenshot(page, 'envelope-view.png')
    if (process.env.RELTAPE_UPDATE_DOCS === '1') {
      await mkdir(join(import.meta.dirname, '../docs'), { recursive: true })
      await copyFile(file, join(import.meta.dirname, '../docs/envelope-view.png'))
    }
    expect(problems).toEqual([])
    await page.close()
  })
})
