/**
 * Viewer: headless Chromium (Debian's, driven by playwright-core) opens a 10,000-exchange session and an exchange
 * whose Rels hold 500 objects. Times are taken in the page, up to the first painted frame that shows the result
 * (lib/page-timing.ts says why not through the driver).
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { SessionStore } from '../store/store.js'
import { BenchChild, startNodeChild } from './lib/children.js'
import { RELS_PATH, relsEnvelope } from './lib/envelope.js'
import type { ResultRow } from './lib/results.js'
import type { Scenario, ScenarioContext } from './lib/scenario.js'
import { sendSupportExchange } from './lib/session-fixture.js'
import { median, spread } from './lib/stats.js'
import { benchHome } from './lib/tls.js'
import { type DeepSelector, timeHashChange, watchFirstPaint } from './lib/page-timing.js'

const SESSION = 'bench-viewer'
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
/** Where the measured elements live: inside these components' shadow roots. */
export const ROW: DeepSelector = { through: ['reltape-app', 'session-view', 'exchange-list'], select: '[data-testid=exchange-row]' }
const ENVELOPE = ['reltape-app', 'session-view', 'exchange-view', 'envelope-view']
const RELS_OBJECT: DeepSelector = { through: [...ENVELOPE, 'rels-panel'], select: '[data-testid=rels-object]' }
const RESULT_TREE: DeepSelector = { through: ENVELOPE, select: '[data-testid=result-tree]' }
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Writes the session: `total` send/support exchanges, the one at `relsSeq` answered by a 500-object Rels envelope. */
async function writeSession(dir: string, total: number, relsSeq: number): Promise<void> {
  const writer = await new SessionStore(dir).open(SESSION, { recording: { tool: 'reltape-bench', mode: 'forward', upstream: null }, warn: () => {} })
  for (let n = 0; n < total; n++) {
    const x = sendSupportExchange(writer.nextSeq(), n)
    if (x.seq === relsSeq && x.response) {
      x.request.url = x.request.url.replace(/\/public\/.*$/, RELS_PATH)
      const text = relsEnvelope(500)
      x.response.body = { kind: 'json', json: JSON.parse(text) as never, contentType: 'application/json; charset=utf-8', size: text.length }
    }
    writer.append(x)
  }
  await writer.close()
}

/** The built UI, copied to `into`: a rebuild of dist/ui during the run (vite empties it first) cannot break a page load. */
export async function privateUi(ctx: ScenarioContext, into: string): Promise<string> {
  const dist = fileURLToPath(new URL('../dist/ui/', import.meta.url))
  if (!existsSync(`${dist}index.html`)) {
    ctx.log('  the viewer UI is not built (dist/ui): running npm run build:ui …')
    execFileSync('npm', ['run', 'build:ui'], { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: 'ignore', timeout: 300_000 })
    if (!existsSync(`${dist}index.html`)) throw new Error('npm run build:ui made no dist/ui/index.html')
  }
  await cp(dist, into, { recursive: true })
  return into
}

type TraceEvent = { name: string; ph: string; dur?: number; tid: number; pid: number }

/** Sums the complete events of a DevTools timeline trace by name (top-level kinds of work on the renderer). */
function timelineSummary(trace: Buffer): string {
  const events = (JSON.parse(trace.toString('utf8')) as { traceEvents: TraceEvent[] }).traceEvents
  const kinds = new Set(['UpdateLayoutTree', 'Layout', 'PrePaint', 'Paint', 'Layerize', 'FunctionCall', 'EvaluateScript', 'v8.compile', 'RunMicrotasks', 'TimerFire', 'FireAnimationFrame', 'ParseHTML', 'HitTest', 'Commit'])
  const sums = new Map<string, number>()
  for (const e of events) if (e.ph === 'X' && kinds.has(e.name) && e.dur) sums.set(e.name, (sums.get(e.name) ?? 0) + e.dur / 1000)
  return [...sums].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join(', ')
}

export const viewer: Scenario = {
  name: 'viewer',
  describe: 'headless Chromium: first rows of a 10,000-exchange session; an exchange with 500 Rels objects',
  async run(ctx) {
    const total = ctx.quick ? 2000 : 10_000
    const reps = ctx.quick ? 2 : 9
    const relsSeq = Math.floor(total / 2)
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`)
    const env = await benchHome('viewer')
    const children: BenchChild[] = []
    let browser: Browser | null = null
    try {
      const dir = join(env.tmp, 'sessions')
      await writeSession(dir, total, relsSeq)
      const uiDir = await privateUi(ctx, join(env.tmp, 'ui'))
      const t0 = performance.now()
      const v = await startNodeChild('viewer', { dir, uiDir })
      children.push(v.child)
      const viewerStartMs = performance.now() - t0
      // The link startViewer hands out may carry the API's token in its query (`/?token=…`): deep links go after it.
      const link = new URL(String(v.ready.url))
      const base = link.origin
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })

      // In the page (lib/page-timing.ts), and from this process through the driver, for comparison with earlier runs.
      const firstRows: number[] = []
      const openRels: number[] = []
      const firstRowsDriver: number[] = []
      for (let i = 0; i < reps; i++) {
        // A new context each time: nothing cached in the browser, as on a first visit.
        const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
        const page = await context.newPage()
        // With --profile, the first repetition records the page's JavaScript with the DevTools profiler.
        const cdp = process.env.RELTAPE_BENCH_PROFILE && i === 0 ? await context.newCDPSession(page) : null
        if (cdp) {
          await cdp.send('Profiler.enable')
          await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
          await cdp.send('Profiler.start')
        }
        // Where the time goes: each API call's duration as the browser saw it (request start to response end).
        const api: { url: string; ms: number }[] = []
        page.on('requestfinished', (request) => {
          const t = request.timing()
          if (request.url().includes('/api/') && t.responseEnd > 0) api.push({ url: request.url().replace(base, ''), ms: t.responseEnd })
        })
        const painted = await watchFirstPaint(page, ROW)
        const a = performance.now()
        await page.goto(`${link.origin}${link.pathname}${link.search}#/sessions/${SESSION}`)
        await page.locator('[data-testid=exchange-row]').first().waitFor({ state: 'visible', timeout: 60_000 })
        firstRowsDriver.push(performance.now() - a)
        firstRows.push(await painted.paintedAt())
        const slowest = (n: number) => [...api].sort((x, y) => y.ms - x.ms).slice(0, n).map((r) => `${r.url} ${r.ms.toFixed(0)} ms`).join(', ')
        const nav = JSON.parse(String(await page.evaluate(`JSON.stringify(performance.getEntriesByType('navigation')[0] ?? {})`))) as { domContentLoadedEventEnd?: number; loadEventEnd?: number }
        ctx.log(`  rep ${i + 1}: page DOMContentLoaded ${nav.domContentLoadedEventEnd?.toFixed(0)} ms, load ${nav.loadEventEnd?.toFixed(0)} ms; API calls before the first rows: ${api.length}; slowest: ${slowest(3)}`)
        api.length = 0
        // With --profile, the first opening of the exchange is also traced: how much of it is style and layout.
        const tracing = cdp !== null
        if (tracing) await browser.startTracing(page, { categories: ['devtools.timeline'] })
        const hash = `#/sessions/${SESSION}/exchanges/${relsSeq}/envelope`
        const opened = await timeHashChange(page, hash, [RELS_OBJECT, RESULT_TREE], /\/exchanges\/\d+$/)
        openRels.push(opened.ms)
        ctx.log(`  rep ${i + 1}: the exchange request ran ${opened.fetch ? `${opened.fetch.start.toFixed(0)}–${opened.fetch.end.toFixed(0)} ms` : '(from cache?)'} after the hash change`)
        if (tracing) ctx.log(`  trace of the opening, main-thread time by kind: ${timelineSummary(await browser.stopTracing())}`)
        ctx.log(`  rep ${i + 1}: API calls while opening the exchange: ${slowest(3)}`)
        if (cdp) {
          const { profile } = await cdp.send('Profiler.stop')
          const dir = String(process.env.RELTAPE_BENCH_PROFILE)
          await mkdir(dir, { recursive: true })
          const file = join(dir, `viewer-page-${Date.now()}.cpuprofile`)
          await writeFile(file, JSON.stringify(profile))
          // The bundle's source maps go beside it, so that profile-summary maps frames to viewer/ui/src later.
          for (const f of await readdir(join(uiDir, 'assets'))) if (f.endsWith('.map')) await cp(join(uiDir, 'assets', f), join(dir, f))
          ctx.log(`  page profile (first rows, then the 500-Rels exchange): ${file}`)
        }
        if (i === 0) {
          const objects = await page.locator('[data-testid=rels-object]').count()
          ctx.log(`  the envelope view shows ${objects} Rels objects`)
        }
        ctx.log(`  rep ${i + 1}/${reps}: first rows ${firstRows[i]?.toFixed(0)} ms, 500-Rels exchange open ${openRels[i]?.toFixed(0)} ms`)
        await context.close()
      }
      const rest = firstRows.slice(1)
      const rows: ResultRow[] = [
        { scenario: 'viewer', metric: `first rows of a ${total}-exchange session, first visit after start`, value: firstRows[0] ?? Number.NaN, unit: 'ms', baseline: null, ratio: null, note: 'right after startViewer: the session may still be parsing in the background' },
        { scenario: 'viewer', metric: `first rows of a ${total}-exchange session`, value: median(rest), unit: 'ms', baseline: null, ratio: null, spread: spread(rest), target: '≤ 1000 ms', met: median(rest) <= 1000, note: 'navigation start to the first painted frame with a row, timed in the page (lib/page-timing.ts)' },
        { scenario: 'viewer', metric: `first rows of a ${total}-exchange session, seen through the driver`, value: median(firstRowsDriver.slice(1)), unit: 'ms', baseline: null, ratio: null, spread: spread(firstRowsDriver.slice(1)), note: 'page.goto to locator.waitFor in this process, as runs before 2026-11-25 measured: includes Playwright\'s polling back-off' },
        { scenario: 'viewer', metric: 'open an exchange with 500 Rels objects', value: median(openRels), unit: 'ms', baseline: null, ratio: null, spread: spread(openRels), target: '≤ 300 ms', met: median(openRels) <= 300, note: 'hash change to the first painted frame showing a Rels object and the Result tree, timed in the page, while the list still pages in' },
        { scenario: 'viewer', metric: 'startViewer process start to ready (includes node start)', value: viewerStartMs, unit: 'ms', baseline: null, ratio: null },
      ]
      return rows
    } finally {
      await browser?.close()
      for (const c of children) await c.kill()
      await env.cleanup()
    }
  },
}
