/**
 * The first exchange a visitor opens is drawn by code and styles never used before in the page: Lit prepares each
 * template on first use, the engine compiles the rendering code, the components' style sheets are parsed. Measured
 * on a 500-Rels exchange: about 35 ms more than the same opening once another exchange has been shown.
 *
 * So once a session's first rows are shown, in the idle time while the user reads them, a small stand-in exchange is
 * drawn once, out of sight, through the same components, and removed. (Drawn before the first rows instead, it
 * made them show ~60 ms later: the rows are what the user waits for first.)
 * It is never fetched (it is put in the loader's cache under a session name no real session can have) and never
 * shown: `visibility: hidden` still lays text out, which is part of what warms up.
 */
import type { Exchange } from '../../../model/session.js'
import { afterPaint } from './after-paint.js'
import { primeExchange } from './exchange-loader.js'

/** Not a session name the server can give: it holds a NUL. */
const SESSION = '\u0000prewarm'

const STAND_IN: Exchange = {
  seq: 1,
  id: 'prewarm',
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 1,
  request: {
    method: 'POST',
    url: 'https://prewarm.invalid/public/api/v1/prewarm',
    httpVersion: '1.1',
    headers: [['Content-Type', 'application/json']],
    body: { kind: 'json', json: { Id: 1 }, contentType: 'application/json', size: 8 },
    auth: null,
  },
  response: {
    status: 200,
    statusText: 'OK',
    headers: [['Content-Type', 'application/json']],
    body: {
      kind: 'json',
      json: { OK: true, Error: null, Result: [{ Id: 1, ClientId: 1, Text: 'a', Flag: null }], Rels: { Clients: [{ Id: 1, Name: 'a', UserId: 2 }], Users: [{ Id: 2, Name: 'b', ClientId: 1 }] } },
      contentType: 'application/json',
      size: 150,
    },
    contentEncoding: null,
  },
  error: null,
}

let done = false

/**
 * Once per page, in idle time (within 3 s), draws the stand-in exchange out of sight if `wanted()` still says so, and
 * removes it after the frames that lay it out. It goes in document.body, outside the session view, so that its
 * `exchange-settled` never reaches the session view's paging. Safari has no requestIdleCallback: a timer stands in.
 */
export function prewarmWhenIdle(wanted: () => boolean): void {
  const run = () => {
    if (done || !wanted()) return
    done = true
    primeExchange(SESSION, STAND_IN)
    const box = document.createElement('div')
    box.setAttribute('aria-hidden', 'true')
    box.style.cssText = 'position:fixed;left:-10000px;top:0;width:900px;height:600px;visibility:hidden;pointer-events:none;contain:strict'
    const view = document.createElement('exchange-view')
    view.session = SESSION
    view.seq = STAND_IN.seq
    box.append(view)
    document.body.append(box)
    // Two frames: the envelope first, its Rels graph the frame after.
    afterPaint(() => afterPaint(() => box.remove()))
  }
  if (typeof requestIdleCallback === 'function') requestIdleCallback(run, { timeout: 3000 })
  else setTimeout(run, 200)
}
