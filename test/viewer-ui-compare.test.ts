/**
 * The viewer's compare view: `GET /api/compare` (behind the token) answers `reltape diff --json`'s SessionDiff, and
 * `#/compare/A/B` shows it: each changed path with old → new, calls only in one side marked, links to exchanges.
 * Reached by a deep link, by ticking two sessions in the list, and by "Compare with…" on an exchange.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunningViewer } from '../viewer/server.js'
import { repoRoot } from './helpers/cli.js'
import { bearer } from './helpers/viewer-token.js'
import { type BrowserFixture, deepText, hashOf, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'

const SAMPLE = join(repoRoot, 'sessions', 'sample-support-chat.json')
/** Markup in recorded content: shown as text, never run. */
const HOSTILE = '<img src=x onerror="window.__pwned=1">'

let browser: Browser
let viewer: RunningViewer
let fixture: BrowserFixture | undefined

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    copyFileSync(SAMPLE, join(dir, 'sample.json'))
    // The client renamed (with markup in the new name) in exchange #1.
    const lines = readFileSync(SAMPLE, 'utf8').split('\n')
    const i1 = lines.findIndex((l) => l.startsWith('    {"seq":1,'))
    expect(i1).toBeGreaterThan(0)
    lines[i1] = lines[i1]!.replaceAll('"Name":"Ivan Petrov"', `"Name":${JSON.stringify(`Ivan P. ${HOSTILE}`)}`)
    writeFileSync(join(dir, 'modified.json'), lines.join('\n'))
  })
  ;({ browser, viewer } = fixture)
}, 120_000)

afterAll(() => fixture?.close())

type Diff = { equal: boolean; calls: { key: string; a: number | null; b: number | null; changes: { path: string; a?: unknown; b?: unknown }[] }[] }

describe('viewer compare', { timeout: 60_000 }, () => {
  it('GET /api/compare answers the SessionDiff, and only with the token', async () => {
    const base = new URL(viewer.url).origin
    const url = `${base}/api/compare?a=sample&b=modified`
    expect((await fetch(url)).status).toBe(401)
    const res = await fetch(url, { headers: bearer(viewer.token) })
    expect(res.status).toBe(200)
    const diff = (await res.json()) as Diff
    expect(diff.equal).toBe(false)
    const change = diff.calls.flatMap((c) => c.changes).find((c) => c.path === 'Rels.Clients#11.Name')
    expect(change).toMatchObject({ a: 'Ivan Petrov', b: `Ivan P. ${HOSTILE}` })
    const one = (await (await fetch(`${base}/api/compare?a=${encodeURIComponent('sample#1')}&b=${encodeURIComponent('modified#1')}`, { headers: bearer(viewer.token) })).json()) as Diff
    expect(one.calls).toHaveLength(1)
    expect((await fetch(`${base}/api/compare?a=sample&b=${encodeURIComponent('modified#1')}`, { headers: bearer(viewer.token) })).status).toBe(400)
    expect((await fetch(`${base}/api/compare?a=${encodeURIComponent('../x')}&b=sample`, { headers: bearer(viewer.token) })).status).toBe(400)
  })

  it('a deep link shows the changed Rels.Clients#11.Name, old → new, as text, with links to the exchanges', async () => {
    const { page, problems } = await newPage(browser)
    try {
      await page.goto(`${viewer.url}#/compare/sample/modified`)
      const change = page.locator('[data-testid=change][data-path="Rels.Clients#11.Name"]').first()
      await change.waitFor()
      const text = await deepText(change)
      expect(text).toContain('Rels.Clients#11.Name')
      expect(text).toContain('"Ivan Petrov"')
      expect(text).toContain('→')
      expect(text).toContain(HOSTILE.slice(0, 12))
      expect(await page.evaluate('window.__pwned')).toBeUndefined()
      const call = page.locator('[data-testid=compare-call]', { has: change })
      expect(await call.locator('[data-testid=link-a]').getAttribute('href')).toBe('#/sessions/sample/exchanges/1')
      await call.locator('[data-testid=link-b]').click()
      await poll(() => hashOf(page)).toBe('#/sessions/modified/exchanges/1')
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })

  it('two sessions ticked in the list link to their comparison; an exchange compares with another session', async () => {
    const { page, problems } = await newPage(browser)
    try {
      await page.goto(viewer.url)
      await page.locator('[data-testid=session-row][data-name=sample] [data-testid=compare-pick]').check()
      await page.locator('[data-testid=session-row][data-name=modified] [data-testid=compare-pick]').check()
      await page.locator('[data-testid=compare-picked]').click()
      await poll(() => hashOf(page)).toBe('#/compare/sample/modified')
      await page.locator('[data-testid=change][data-path="Rels.Clients#11.Name"]').first().waitFor()

      await page.goto(`${viewer.url}#/sessions/sample/exchanges/1`)
      await page.locator('[data-testid=compare-with]').click()
      await page.locator('[data-testid=compare-session]').selectOption('modified')
      expect(await page.locator('[data-testid=compare-seq]').inputValue()).toBe('1')
      await page.locator('[data-testid=compare-go]').click()
      await poll(() => hashOf(page)).toBe(`#/compare/${encodeURIComponent('sample#1')}/${encodeURIComponent('modified#1')}`)
      await page.locator('[data-testid=change][data-path="Rels.Clients#11.Name"]').first().waitFor()
      expect(problems).toEqual([])
    } finally {
      await page.close()
    }
  })
})
