/**
 * Browser tests of the sessions list and the exchange list: broken sessions, filters, keyboard,
 * live rows while a recorder appends, paths shown without the prefix they all share, and a 10,000-exchange session.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import { SessionStore, type SessionWriter } from '../store/store.js'
import type { RunningViewer } from '../viewer/server.js'
import { type BrowserFixture, deepText, newPage, openBrowserFixture, poll } from './helpers/viewer-ui-browser.js'
import { listExchange, sessionOf, writeLongSession } from './helpers/viewer-ui-sessions.js'

let browser: Browser
let viewer: RunningViewer
let dir: string
let fixture: BrowserFixture | undefined
let writer: SessionWriter | null = null

beforeAll(async () => {
  fixture = await openBrowserFixture(async (dir) => {
    await writeLongSession(dir, 'long', 10_000)
    const api = ['chats/history', 'chats/channel/send/support', 'tickets/close', 'files/upload'].map((p, i) => callTo(i + 1, `/public/api/v1/${p}`))
    await writeFile(join(dir, 'api.json'), JSON.stringify(sessionOf('api', api)), { mode: 0o600 })
  })
  ;({ browser, viewer, dir } = fixture)
}, 120_000)

afterEach(async () => {
  await writer?.close()
  writer = null
})

afterAll(() => fixture?.close())

const rowSeqs = async (page: Page): Promise<number[]> =>
  (await page.locator('[data-testid=exchange-row]').evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-seq'))))).sort((a, b) => a - b)

/** One recorded call to `path` on api.example.test. */
function callTo(seq: number, path: string): Exchange {
  const x = listExchange(seq)
  return { ...x, request: { ...x.request, url: `https://api.example.test${path}` } }
}

/** The path column of every row shown, by seq: the text the user reads and the full URL its tooltip gives. */
const pathCells = async (page: Page): Promise<Record<number, { text: string; title: string | null }>> =>
  Object.fromEntries(
    await page.locator('[data-testid=exchange-row]').evaluateAll((rows) =>
      rows.map((r) => {
        const cell = r.querySelector('.path')
        return [Number(r.getAttribute('data-seq')), { text: cell?.textContent?.trim() ?? '', title: cell?.getAttribute('title') ?? null }]
      }),
    ),
  )

/** The shared prefix the list's header shows, or null when it shows none. */
const headerPrefix = async (page: Page): Promise<string | null> => {
  const prefix = page.locator('[data-testid=path-prefix]')
  return (await prefix.count()) === 0 ? null : await deepText(prefix)
}

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

  it('a session opens on its list and a hint; a clicked row opens its exchange and is marked open', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    expect(await deepText(page.locator('session-view'))).toContain('Select an exchange.')
    expect(await page.locator('exchange-view').count()).toBe(0)
    expect(await page.locator('[data-testid=exchange-row].open').count()).toBe(0)
    await page.locator('[data-testid=exchange-row][data-seq="3"]').click()
    await poll(() => deepText(page.locator('[data-testid=banner]'))).toContain('ACCESS_DENIED')
    expect(new URL(page.url()).hash).toBe('#/sessions/example/exchanges/3')
    expect(await page.locator('[data-testid=exchange-row].open').getAttribute('data-seq')).toBe('3')
    expect(await page.locator('exchange-view').count()).toBe(1)
    expect(problems).toEqual([])
    await page.close()
  })

  it('shows paths without the /public/api/v1/ they all share, which the header shows once; tooltips and filters keep full paths', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/api`)
    await poll(() => rowSeqs(page)).toEqual([1, 2, 3, 4])
    expect(await headerPrefix(page)).toBe('/public/api/v1/')
    const cells = await pathCells(page)
    expect(cells[1]).toEqual({ text: 'chats/history', title: 'api.example.test/public/api/v1/chats/history' })
    expect(cells[2]?.text).toBe('chats/channel/send/support')
    expect(cells[3]?.text).toBe('tickets/close')
    expect(cells[4]?.text).toBe('files/upload')
    // The filter still reads full paths, and the prefix stays what the session's rows share.
    await page.locator('[data-testid=filter]').fill('path:/public/api/v1/chats')
    await poll(() => rowSeqs(page)).toEqual([1, 2])
    expect(await headerPrefix(page)).toBe('/public/api/v1/')
    expect((await pathCells(page))[1]?.text).toBe('chats/history')
    // A session with a call outside the API (/health) shares no directory: full paths, no prefix.
    await page.goto(`${viewer.url}#/sessions/example`)
    await poll(() => page.locator('[data-testid=exchange-row]').count()).toBe(11)
    expect(await headerPrefix(page)).toBeNull()
    const example = await pathCells(page)
    expect(example[10]?.text).toBe('/public/api/v1/files/upload')
    expect(example[11]?.text).toBe('/health')
    expect(problems).toEqual([])
    await page.close()
  })

  it('shortens the shared prefix when the recorder appends a call that does not share it; a single row shows its full path', async () => {
    const store = new SessionStore(dir)
    writer = await store.open('prefixed', { recording: { tool: 'reltape/test', mode: 'reverse', upstream: 'https://api.example.test' }, warn: () => {} })
    writer.append(callTo(writer.nextSeq(), '/public/api/v1/chats/history'))
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/prefixed`)
    await poll(() => rowSeqs(page)).toEqual([1])
    await poll(() => page.locator('[data-testid=live].on').count()).toBe(1)
    expect(await headerPrefix(page)).toBeNull()
    expect((await pathCells(page))[1]?.text).toBe('/public/api/v1/chats/history')
    writer.append(callTo(writer.nextSeq(), '/public/api/v1/chats/list'))
    await poll(() => headerPrefix(page)).toBe('/public/api/v1/chats/')
    expect(Object.values(await pathCells(page)).map((c) => c.text)).toEqual(['history', 'list'])
    writer.append(callTo(writer.nextSeq(), '/public/api/v1/files/upload'))
    await poll(() => headerPrefix(page)).toBe('/public/api/v1/')
    expect(Object.values(await pathCells(page)).map((c) => c.text)).toEqual(['chats/history', 'chats/list', 'files/upload'])
    writer.append(callTo(writer.nextSeq(), '/health'))
    await poll(() => rowSeqs(page)).toEqual([1, 2, 3, 4])
    await poll(() => headerPrefix(page)).toBeNull()
    expect(Object.values(await pathCells(page)).map((c) => c.text)).toEqual(['/public/api/v1/chats/history', '/public/api/v1/chats/list', '/public/api/v1/files/upload', '/health'])
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

  it('a link to exchange 9,000 of 10,000 opens it, and the list brings its row into view, marked, once its page arrives', async () => {
    const { page, problems } = await newPage(browser)
    await page.goto(`${viewer.url}#/sessions/long/exchanges/9000`)
    await poll(() => deepText(page.locator('[data-testid=result-tree]')), 60_000).toContain('message 9000')
    const row = page.locator('[data-testid=exchange-row][data-seq="9000"]')
    await poll(() => row.count(), 90_000).toBe(1)
    expect(await row.getAttribute('class')).toMatch(/\bopen\b.*\bcursor\b/)
    // In view, not just rendered in the margin around it (within a pixel: the layout has fractional pixels).
    const inView = await page.locator('[data-testid=exchange-scroller]').evaluate((s) => {
      const r = s.querySelector('[data-seq="9000"]')!.getBoundingClientRect()
      const box = s.getBoundingClientRect()
      return r.top >= box.top - 1 && r.bottom <= box.bottom + 1
    })
    expect(inView).toBe(true)
    // The keyboard goes on from there.
    await page.keyboard.press('j')
    await poll(() => page.locator('[data-testid=exchange-row].cursor').getAttribute('data-seq')).toBe('9001')
    expect(problems).toEqual([])
    await page.close()
  }, 150_000)
})
