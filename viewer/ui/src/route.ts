/**
 * Deep links live in the URL hash: `#/sessions/<name>/exchanges/<seq>/<tab>?q=<filter>`, a session's entities
 * `#/sessions/<name>/entities` and one entity's timeline `#/sessions/<name>/entities/<Type>/<Id>`.
 * Two sessions (or two exchanges) compared: `#/compare/<A>/<B>`, each `SESSION` or `SESSION#SEQ` (encoded).
 * The hash keeps them working whatever path the server serves the UI from.
 */
export const TABS = ['envelope', 'request', 'response', 'headers', 'raw'] as const
export type Tab = (typeof TABS)[number]

export type Route = {
  session: string | null
  seq: number | null
  tab: Tab
  filter: string
  /** The session's entity list (type and id null) or one entity's timeline; absent elsewhere. */
  entities?: { type: string; id: string } | { type: null; id: null } | null
  /** Two sessions or exchanges compared (`SESSION` or `SESSION#SEQ` each); absent elsewhere. */
  compare?: { a: string; b: string } | null
  /** With an exchange: a JSON path in its answer to show selected (`Rels.Clients[0]`, `Result[2].ClientId`): where an entity's page points. */
  at?: string | null
}

export function parseRoute(hash: string): Route {
  const h = hash.replace(/^#/, '')
  const q = h.indexOf('?')
  const path = q < 0 ? h : h.slice(0, q)
  const params = new URLSearchParams(q < 0 ? '' : h.slice(q + 1))
  const parts = path.split('/').filter(Boolean).map(safeDecode)
  const route: Route = { session: null, seq: null, tab: 'envelope', filter: params.get('q') ?? '' }
  if (parts[0] === 'compare' && parts[1] !== undefined && parts[2] !== undefined) {
    route.compare = { a: parts[1], b: parts[2] }
    return route
  }
  if (parts[0] !== 'sessions' || parts[1] === undefined) return route
  route.session = parts[1]
  if (parts[2] === 'entities') {
    route.entities = parts[3] !== undefined && parts[4] !== undefined ? { type: parts[3], id: parts[4] } : { type: null, id: null }
    return route
  }
  if (parts[2] === 'exchanges' && parts[3] !== undefined && /^\d+$/.test(parts[3])) {
    route.seq = Number(parts[3])
    const at = params.get('at')
    if (at) route.at = at
    const tab = parts[4]
    if (tab && (TABS as readonly string[]).includes(tab)) route.tab = tab as Tab
  }
  return route
}

export function formatRoute(r: Partial<Route>): string {
  let out = '#/'
  if (r.compare) return compareHref(r.compare.a, r.compare.b)
  if (r.session) {
    out += `sessions/${encodeURIComponent(r.session)}`
    if (r.entities) {
      out += '/entities'
      if (r.entities.type !== null) out += `/${encodeURIComponent(r.entities.type)}/${encodeURIComponent(r.entities.id)}`
      if (r.filter) out += `?q=${encodeURIComponent(r.filter)}`
      return out
    }
    const query: string[] = []
    if (r.filter) query.push(`q=${encodeURIComponent(r.filter)}`)
    if (r.seq !== null && r.seq !== undefined) {
      out += `/exchanges/${r.seq}`
      if (r.tab && r.tab !== 'envelope') out += `/${r.tab}`
      if (r.at) query.push(`at=${encodeURIComponent(r.at)}`)
    }
    if (query.length) out += `?${query.join('&')}`
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
/** The link to an entity's timeline in a session (the current one by default). */
export function entityHref(type: string, id: string | number, session = parseRoute(location.hash).session): string {
  return formatRoute({ session, entities: { type, id: String(id) } })
}

/** The link to the comparison of two sessions, or of two exchanges (`SESSION#SEQ`). */
export function compareHref(a: string, b: string): string {
  return `#/compare/${encodeURIComponent(a)}/${encodeURIComponent(b)}`
}

/** The link to an exchange of a session; `at`: a JSON path in its answer to show selected. */
export function exchangeHref(session: string, seq: number, at?: string): string {
  return formatRoute({ session, seq, ...(at ? { at } : {}) })
}

export function navigate(patch: Partial<Route>, replace = false): void {
  // A path to show selected belongs to the link that named it: moving on (another exchange, a tab) drops it.
  const next = { ...parseRoute(location.hash), at: null, ...patch }
  const hash = formatRoute(next)
  if (hash === location.hash || (hash === '#/' && location.hash === '')) return
  if (replace) {
    history.replaceState(null, '', hash)
    // replaceState fires no hashchange; tell the app ourselves.
    window.dispatchEvent(new HashChangeEvent('hashchange'))
  } else location.hash = hash
}
