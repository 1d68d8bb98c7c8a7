/**
 * Deep links live in the URL hash: `#/sessions/<name>/exchanges/<seq>/<tab>?q=<filter>`.
 * The hash keeps them working whatever path the server serves the UI from.
 */
export const TABS = ['envelope', 'request', 'response', 'headers', 'raw'] as const
export type Tab = (typeof TABS)[number]

export type Route = {
  session: string | null
  seq: number | null
  tab: Tab
  filter: string
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '')
  const q = h.indexOf('?')
  const path = q < 0 ? h : h.slice(0, q)
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1))
  const parts = path.split('/').filter(Boolean).map(safeDecode)
  const route: Route = { session: null, seq: null, tab: 'envelope', filter: params.get('q') ?? '' }
  if (parts[0] !== 'sessions' || parts[1] === undefined) return route
  route.session = parts[1]
  if (parts[2] === 'exchanges' && parts[3] !== undefined && /^\d+$/.test(parts[3])) {
    route.seq = Number(parts[3])
    const tab = parts[4]
    if (tab && (TABS as readonly string[]).includes(tab)) route.tab = tab as Tab
  }
  return route
}

export function formatRoute(r: Partial<Route>): string {
  let out = '#/'
  if (r.session) {
    out += `sessions/${encodeURIComponent(r.session)}`
    if (r.seq !== null && r.seq !== undefined) {
      out += `/exchanges/${r.seq}`
      if (r.tab && r.tab !== 'envelope') out += `/${r.tab}`
    }
    if (r.filter) out += `?q=${encodeURIComponent(r.filter)}`
  }
  return out
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** Changes part of the route. `replace` keeps the history clean for things like typing in the filter box. */
export function navigate(patch: Partial<Route>, replace = false): void {
  const next = { ...parseRoute(location.hash), ...patch }
  const hash = formatRoute(next)
  if (hash === location.hash || (hash === '#/' && location.hash === '')) return
  if (replace) {
    history.replaceState(null, '', hash)
    // replaceState fires no hashchange; tell the app ourselves.
    window.dispatchEvent(new HashChangeEvent('hashchange'))
  } else location.hash = hash
}
