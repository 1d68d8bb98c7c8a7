/**
 * The viewer's search over every session: `GET /api/find?q=` (behind the token) answers what `reltape find --json`
 * answers (store/find.ts), and the search box above the session list lists each match (session, exchange, where) with
 * links to the exchange and to the entity's timeline. Two sessions carry Clients#11: the fixture's `example` and a
 * copy of the sample session.
 */
import { copyFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findInSessions, type FindMatch } from '../store/find.js'
import { SessionStore } from '../store/store.js'
import type { RunningViewer } from '../viewer/server.js'
import { repoRoot } from './helpers/cli.js'
import { bearer } from './helpers/viewer-token.js'
import { type BrowserFixture, deepText, hashOf, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'

const SAMPLE = join(repoRoot, 'sessions', 'sample-support-chat.json')

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    copyFileSync(SAMPLE, join(dir, 'sample.json'))
  })
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(() => fixture?.close())

/** The query whose matches the find box lists and offers to click (null while they answer another query, or none). */
const answered = (page: Page): Promise<string | null> =>
  page.locator('find-box').evaluate((box) => {
    const results = box.shadowRoot!.querySelector('[data-testid=find-results]')
    return results && results.getAttribute('aria-busy') !== 'true' ? (results.querySelector('[data-testid=find-count] code')?.textContent ?? null) : null
  })

describe('viewer search over all sessions', { timeout: 60_000 }, () => {
  it('GET /api/find answers what reltape find --json answers, only with the token', async () => {
    const base = new URL(viewer.url).origin
    const url = `${base}/api/find?q=${encodeURIComponent('Clients#11')}`
    expect((await fetch(url)).status).toBe(401)
    const res = await fetch(url, { headers: bearer(viewer.token) })
    expect(res.status).toBe(200)
    const matches = (await res.json()) as FindMatch[]
    const expected = await findInSessions(new SessionStore(fixture!.dir), 'Clients#11', { rels: { AvatarId: 'Files' }, entities: {} })
    expect(matches).toEqual(expected)
    expect(new Set(matches.map((m) => m.session))).toEqual(new Set(['example', 'sample']))
    // The UI asks for the first few, and reads how many there are in all.
    const some = await fetch(`${url}&limit=2`, { headers: bearer(viewer.token) })
    expect(await some.json()).toEqual(expected.slice(0, 2))
    expect(some.headers.get('x-reltape-matches')).toBe(String(expected.length))
    expect((await fetch(`${base}/api/find`, { headers: bearer(viewer.token) })).status).toBe(400)
    expect((await fetch(`${url}&limit=0`, { headers: bearer(viewer.token) })).status).toBe(400)
    expect((await fetch(`${base}/api/find?q=%20`, { headers: bearer(viewer.token) })).status).toBe(400)
    const none = await fetch(`${base}/api/find?q=${encodeURIComponent('Clients#999999')}`, { headers: bearer(viewer.token) })
    expect(await none.json()).toEqual([])
  })

  it('typing Clients#11 in the box lists matches from both sessions; a click lands on the exchange', async () => {
    const { page, problems } = await newPage(browser)
    try {
      await page.goto(viewer.url)
      const input = page.locator('[data-testid=find-input]')
      await input.fill('Clients#11')
      const results = page.locator('[data-testid=find-result]')
      await poll(() => results.count()).toBeGreaterThan(1)
      const sessions = await results.evaluateAll((els) => [...new Set(els.map((e) => e.getAttribute('data-session')))].sort())
      expect(sessions).toEqual(['example', 'sample'])
      expect(await deepText(page.locator('[data-testid=find-count]'))).toMatch(/\d+ match/)
      // Where each match sits, and the entity's timeline when it sits in one.
      const first = results.first()
      expect((await deepText(first)).length).toBeGreaterThan(0)
      const entityLink = page.locator('[data-testid=find-entity]').first()
      expect(await entityLink.getAttribute('href')).toMatch(/^#\/sessions\/[^/]+\/entities\/[^/]+\/[^/]+$/)
      // Open a sample exchange.
      const row = page.locator('[data-testid=find-result][data-session=sample]').first()
      const seq = await row.getAttribute('data-seq')
      await row.locator('[data-testid=find-exchange]').click()
      await poll(() => hashOf(page)).toBe(`#/sessions/sample/exchanges/${seq}`)
      await poll(() => deepText(page.locator('exchange-view'))).toContain(`#${seq}`)
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })

  it('an entity link opens its timeline; recorded text stays text', async () => {
    const { page, problems } = await newPage(browser)
    try {
      await page.goto(viewer.url)
      await page.locator('[data-testid=find-input]').fill('<img src=x onerror=alert(1)>')
      await page.locator('[data-testid=find-input]').press('Enter')
      await poll(() => page.locator('[data-testid=find-count]').count()).toBe(1)
      expect(await page.locator('find-box').evaluate((el) => el.shadowRoot!.querySelectorAll('img, script').length)).toBe(0)
      await page.locator('[data-testid=find-input]').fill('Clients#11')
      // The answer to Clients#11 itself: the one before (which also has a Clients#11 link) is set aside until it comes.
      await poll(() => answered(page)).toBe('Clients#11')
      const link = page.locator('[data-testid=find-result][data-session=example] [data-testid=find-entity]', { hasText: 'Clients#11' }).first()
      expect(await link.getAttribute('href')).toBe('#/sessions/example/entities/Clients/11')
      await link.click()
      await poll(() => hashOf(page)).toBe('#/sessions/example/entities/Clients/11')
      await poll(() => deepText(page.locator('[data-testid=entity-label]'))).toContain('Client #11')
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })

  it('while another query is typed, the last answer is set aside: it cannot be clicked, and no link turns into another', async () => {
    const { page, problems } = await newPage(browser)
    try {
      await page.goto(viewer.url)
      const input = page.locator('[data-testid=find-input]')
      await input.fill('<img src=x onerror=alert(1)>')
      await input.press('Enter')
      await poll(() => answered(page)).toBe('<img src=x onerror=alert(1)>')
      // The recorded text sits in Client #11's name: this answer has a Clients#11 link too, a few rows down.
      const old = await page.locator('[data-testid=find-entity]', { hasText: 'Clients#11' }).elementHandle()
      const seen = await old!.evaluate((a) => [a.textContent, a.getAttribute('href')])
      const box = (await old!.boundingBox())!
      const start = await hashOf(page)
      // The next answer is held: the moment between typing and the answer lasts as long as the test needs.
      let answer!: () => void
      const held = new Promise<void>((r) => (answer = r))
      await page.route('**/api/find?**', async (route) => {
        await held
        await route.continue()
      })
      await input.fill('Clients#11')
      // A click on the old answer, where the user saw the link: it opens nothing, and the answer says it is busy.
      await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2)
      expect(await hashOf(page)).toBe(start)
      expect(await page.locator('[data-testid=find-results]').getAttribute('aria-busy')).toBe('true')
      answer()
      await poll(() => answered(page)).toBe('Clients#11')
      // The link the user had under the pointer is gone, or still the same link: never another match in its place.
      const now = await old!.evaluate((a) => (a.isConnected ? [a.textContent, a.getAttribute('href')] : null))
      if (now !== null) expect(now).toEqual(seen)
      expect(await hashOf(page)).toBe(start)
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })
})
