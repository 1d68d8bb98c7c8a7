/**
 * The viewer's access token, as the page keeps it. `reltape view` prints `http://127.0.0.1:4000/?token=…`; on load
 * the page moves the token from the URL into sessionStorage and takes it out of the address bar, so the deep links a
 * user copies (`#/sessions/…`) never carry it. sessionStorage is per tab and per origin (the port included, so two
 * viewers do not mix their tokens) and goes when the tab closes; the token is new each run anyway.
 */

/** The code the server answers a missing or wrong token with (model/errors.ts). */
export const TOKEN_REQUIRED = 'VIEWER_TOKEN_REQUIRED'
/** Fired on window with the server's message when it refuses the token; `<reltape-app>` shows it instead of the page. */
export const TOKEN_REFUSED_EVENT = 'reltape-token-refused'

const KEY = 'reltape.viewer-token'
let token: string | null | undefined

function readStored(): string | null {
  try {
    return sessionStorage.getItem(KEY)
  } catch {
    return null // storage disabled: the token lives as long as the page
  }
}

/** Takes `?token=` out of the page's URL (once), keeping it; a token in the URL wins over a stored one (a new run). */
function adopt(): string | null {
  const params = new URLSearchParams(location.search)
  const fromUrl = params.get('token')
  if (fromUrl === null) return readStored()
  try {
    sessionStorage.setItem(KEY, fromUrl)
  } catch {
    /* kept in memory only */
  }
  params.delete('token')
  const search = params.toString()
  history.replaceState(history.state, '', `${location.pathname}${search ? `?${search}` : ''}${location.hash}`)
  return fromUrl
}

/** The token this page was opened with, or null (then the server answers 401 and the app says how to get one). */
export function viewerToken(): string | null {
  if (token === undefined) token = adopt()
  return token
}

/** Headers for a fetch to the API. */
export function authHeaders(): Record<string, string> {
  const t = viewerToken()
  return t === null ? {} : { authorization: `Bearer ${t}` }
}

/**
 * A URL the browser fetches by itself and cannot add a header to (EventSource, `<img>`, a download link), with the
 * token as a query parameter. The viewer sends `Referrer-Policy: no-referrer`, so it is not passed on from there.
 */
export function withToken(url: string): string {
  const t = viewerToken()
  return t === null ? url : `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(t)}`
}

let refused: string | null = null

/** The server's message if it has refused this page's token, else null. */
export function tokenRefusal(): string | null {
  return refused
}

/** Called by the API client on a 401 VIEWER_TOKEN_REQUIRED: the app shows `message` instead of its content. */
export function tokenRefused(message: string): void {
  if (refused === message) return
  refused = message
  window.dispatchEvent(new CustomEvent<string>(TOKEN_REFUSED_EVENT, { detail: message }))
}
