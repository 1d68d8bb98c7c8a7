/**
 * Times taken inside the page, from the action to the first painted frame that shows the result.
 *
 * Why not `locator.waitFor()`: Playwright re-checks a locator that is not there yet after 0, 20, 50, 100, 100 and
 * then every 500 ms (`retryWithProgressAndBackoff` in playwright-core), so a wait measured from outside the page is
 * rounded up to the next check, by up to half a second. Measured on the 500-Rels opening: 394–615 ms from outside
 * while the page itself showed it after 202–236 ms.
 *
 * In the page, a requestAnimationFrame callback looks for the elements each frame; once they are there (and laid
 * out: height > 0), a timer queued from that callback runs right after the frame is painted, and that is the time.
 */
import type { Page } from 'playwright-core'

/** Shadow roots to descend, outermost first, then a selector inside the last one. */
export type DeepSelector = { through: string[]; select: string }

export type PageTiming = {
  /** Action to the painted frame that shows every selector. */
  ms: number
  /** The exchange request as the browser saw it (start and end, ms after the action), when one was made. */
  fetch: { start: number; end: number } | null
}

/** Shared by both measurements: finds a DeepSelector without walking the whole DOM each frame. */
const FIND = `(d) => { let root = document
  for (const host of d.through) { const el = root.querySelector(host); if (!el || !el.shadowRoot) return null; root = el.shadowRoot }
  return root.querySelector(d.select) }`

/**
 * Sets `location.hash` in the page and waits there until every selector shows, painted.
 * The page's own JavaScript runs as usual; this adds one cheap lookup per frame.
 */
export async function timeHashChange(page: Page, hash: string, show: DeepSelector[], fetchPattern: RegExp): Promise<PageTiming> {
  // A string, not a function: this project's Node typings have no DOM.
  const script = `new Promise((resolve) => {
    const find = ${FIND}
    const wanted = ${JSON.stringify(show)}
    const pattern = new RegExp(${JSON.stringify(fetchPattern.source)})
    const t0 = performance.now()
    const tick = () => {
      if (performance.now() - t0 > 60000) return resolve({ ms: -1, fetch: null, missing: wanted.filter((d) => !find(d)).map((d) => d.select) })
      const found = wanted.map(find)
      if (found.every((el) => el && el.getBoundingClientRect().height > 0)) {
        setTimeout(() => {
          const ms = performance.now() - t0
          const r = performance.getEntriesByType('resource').filter((e) => e.startTime >= t0 && pattern.test(e.name)).pop()
          resolve({ ms, fetch: r ? { start: r.startTime - t0, end: r.responseEnd - t0 } : null })
        })
        return
      }
      requestAnimationFrame(tick)
    }
    location.hash = ${JSON.stringify(hash)}
    requestAnimationFrame(tick)
  })`
  const timing = (await page.evaluate(script)) as PageTiming & { missing?: string[] }
  if (timing.missing) throw new Error(`the page did not show ${timing.missing.join(', ')} within 60 s of ${hash}`)
  return timing
}

/**
 * Installs, before the page's own scripts run, a watcher that records when the first frame showing `show` was
 * painted, in ms since navigation start; `paintedAt` reads it once the element is known to be there.
 */
export async function watchFirstPaint(page: Page, show: DeepSelector): Promise<{ paintedAt(): Promise<number> }> {
  await page.addInitScript(`(() => {
    const find = ${FIND}
    const wanted = ${JSON.stringify(show)}
    const tick = () => {
      const el = document.readyState === 'loading' ? null : find(wanted)
      if (el && el.getBoundingClientRect().height > 0) { setTimeout(() => (window.__reltapeFirstPaint = performance.now())); return }
      requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })()`)
  return {
    async paintedAt() {
      // Polled with evaluate: waitForFunction compiles its string in the page, which the viewer's CSP forbids.
      const until = Date.now() + 60_000
      while (Date.now() < until) {
        const at = await page.evaluate('window.__reltapeFirstPaint ?? null')
        if (typeof at === 'number') return at
        await new Promise((r) => setTimeout(r, 20))
      }
      throw new Error('the page never painted the watched element within 60 s')
    },
  }
}
