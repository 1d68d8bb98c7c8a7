/**
 * The directory that every path in a list starts with, such as an API's `/public/api/v1/`. The list shows it once,
 * in its header, so each row keeps room for the part that tells calls apart (`files/upload`).
 */

/** The directory a path's last segment sits in, its query aside: `/a/b/c?x=/y` → `/a/b/`, and `/a/b/` → `/a/`. */
function parentOf(path: string): string {
  const q = path.indexOf('?')
  const p = q < 0 ? path : path.slice(0, q)
  // From the character before a trailing slash, so that `/a/b/` keeps `b/` to show rather than nothing.
  return p.slice(0, p.lastIndexOf('/', p.length - 2) + 1)
}

/** The longest start of two directories that ends at a `/` (`/a/bc/` and `/a/bd/` share `/a/`, not `/a/b`). */
function commonDirectory(a: string, b: string): string {
  const n = Math.min(a.length, b.length)
  let i = 0
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++
  return i === 0 ? '' : a.slice(0, a.lastIndexOf('/', i - 1) + 1)
}

/**
 * The directory shared by the paths of `rows` and by the rows seen before, whose shared directory was `prefix`
 * (null for none seen yet). Rows arriving later only ever shorten it.
 */
export function sharedPrefix(prefix: string | null, rows: readonly { path: string }[]): string | null {
  let shared = prefix
  for (const { path } of rows) {
    if (shared === '') break
    shared = shared === null ? parentOf(path) : commonDirectory(shared, parentOf(path))
  }
  return shared
}

/**
 * The prefix to take off the rows' paths, or '' for none: a single row keeps its full path (there is nothing to
 * tell apart), and so do rows that share no directory but the root.
 */
export function shownPrefix(prefix: string | null, rows: number): string {
  return rows > 1 && prefix !== null && prefix.length > 1 ? prefix : ''
}
