/**
 * A tester opens an answer whose Rels carry 300 clients: the panel shows the first ones at once and the rest on
 * request, and a reference to a client far down the list still opens that client.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'
import { listExchange, sessionOf } from './helpers/viewer-ui-sessions.js'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    const clients = Array.from({ length: 300 }, (_, i) => ({ Id: i + 1, Name: `client ${i + 1}` }))
    const exchange = listExchange(1, { result: [{ Id: 1, ClientId: 290, Text: 'from a client far down the list' }] })
    const body = exchange.response!.body as { json: { Rels: unknown } }
    body.json.Rels = { Clients: clients }
    await writeFile(join(dir, 'manyrels.json'), JSON.stringify(sessionOf('manyrels', [exchange])))
  })
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(() => fixture?.close())

describe('viewer UI: a large Rels', { timeout: 90_000 }, () => {
  it('shows the first 50 objects of a type, then more on request', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/manyrels/exchanges/1/envelope`)
    const objects = page.locator('[data-testid=rels-object]')
    await poll(() => objects.count()).toBe(50)
    const more = page.locator('[data-testid=rels-more]')
    expect(await more.textContent()).toContain('of 250')
    await more.click()
    await poll(() => objects.count()).toBe(250)
    // The button is drawn again with the new count; on a loaded machine a click can land on the one being replaced.
    await poll(async () => {
      if ((await objects.count()) < 300) await more.click({ timeout: 2000 }).catch(() => undefined)
      return objects.count()
    }).toBe(300)
    expect(await more.count()).toBe(0)
    expect(problems).toEqual([])
  })

  it('brings a referenced object beyond the first ones into the panel when the reference is followed', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/manyrels/exchanges/1/envelope`)
    await poll(() => page.locator('[data-testid=rels-object]').count()).toBe(50)
    expect(await page.locator('[data-testid=rels-object][data-key="Clients#290"]').count()).toBe(0)
    // The Result's ClientId chip opens Client #290 in place; its "Rels.Clients #290" link selects it in the panel.
    await page.locator('[data-testid=ref-chip]').first().click()
    const body = page.locator('[data-testid=ref-body]').first()
    await poll(() => deepText(body)).toContain('client 290')
    await body.locator('button.link').first().click()
    const target = page.locator('[data-testid=rels-object][data-key="Clients#290"]')
    await poll(() => target.count()).toBe(1)
    await poll(() => target.getAttribute('class')).toContain('selected')
    expect(problems).toEqual([])
  })
})
