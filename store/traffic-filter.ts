/**
 * What gets recorded. By default the API traffic, not the page's assets: requests under an API path prefix,
 * JSON requests or responses, and CORS preflights. `--include` / `--exclude` globs (picomatch) match
 * `host/path` (or just the path when the glob starts with `/`); `--all` records everything not excluded.
 */
import picomatch from 'picomatch'

export type FilterOptions = {
  /** Record everything (excludes still apply). Default false. */
  all?: boolean
  /** Globs that add to what is recorded. */
  include?: string[]
  /** Globs that are never recorded; they win over everything else. */
  exclude?: string[]
  /** Path prefixes of the API. Default `['/public/api/', '/api/']`. */
  apiPrefixes?: string[]
}

/** What is known of a request when it is judged. */
export type FilterInput = {
  method: string
  /** Host name, with the port when it is not the default one. */
  host: string
  /** Path without the query. */
  path: string
  requestContentType?: string
  accept?: string
  /** Set for a CORS preflight (OPTIONS with Access-Control-Request-Method). */
  preflight: boolean
}

/** `record` / `skip` now, or `response`: decide when the response's content type is known. */
export type Verdict = 'record' | 'skip' | 'response'

const JSON_TYPE = /^application\/(.+\+)?json\b/i

/** Chromium's own calls home (updates, safe browsing, hints): excluded when reltape launches the browser. */
export const BROWSER_HOUSEKEEPING = [
  'update.googleapis.com',
  '*.gvt1.com',
  'clients*.google.com',
  'safebrowsing.googleapis.com',
  'optimizationguide-pa.googleapis.com',
  'content-autofill.googleapis.com',
  'accounts.google.com',
]

export class TrafficFilter {
  readonly #all: boolean
  readonly #include: ((s: string) => boolean)[]
  readonly #exclude: ((s: string) => boolean)[]
  readonly #prefixes: string[]
  readonly options: Readonly<Required<FilterOptions>>

  constructor(options: FilterOptions = {}) {
    this.options = Object.freeze({
      all: options.all ?? false,
      include: options.include ?? [],
      exclude: options.exclude ?? [],
      apiPrefixes: options.apiPrefixes ?? ['/public/api/', '/api/'],
    })
    this.#all = this.options.all
    this.#include = this.options.include.map(matcher)
    this.#exclude = this.options.exclude.map(matcher)
    this.#prefixes = this.options.apiPrefixes
  }

  /** Judges a request: record it, skip it, or wait for the response's content type. */
  judge(input: FilterInput): Verdict {
    const subject = `${input.host}${input.path}`
    if (this.#exclude.some((m) => m(subject) || m(input.path))) return 'skip'
    if (this.#all) return 'record'
    if (this.#include.some((m) => m(subject) || m(input.path))) return 'record'
    if (this.#prefixes.some((p) => input.path.startsWith(p))) return 'record'
    if (input.preflight) return 'record'
    if (input.requestContentType && JSON_TYPE.test(input.requestContentType)) return 'record'
    return 'response'
  }

  /** The second look, for a request judged `response`. */
  judgeResponse(responseContentType: string | undefined): 'record' | 'skip' {
    return responseContentType && JSON_TYPE.test(responseContentType) ? 'record' : 'skip'
  }

  /** One line for the screen. */
  describe(): string {
    const o = this.options
    const base = o.all
      ? 'everything'
      : `API traffic (paths under ${o.apiPrefixes.join(', ')}, JSON requests and responses, CORS preflights)`
    const extra = [
      ...(o.include.length && !o.all ? [`also ${o.include.join(', ')}`] : []),
      ...(o.exclude.length ? [`never ${o.exclude.join(', ')}`] : []),
    ]
    return [base, ...extra].join('; ')
  }
}

function matcher(glob: string): (s: string) => boolean {
  // A glob naming a host (no leading slash) and no path part matches every path on that host.
  const g = !glob.startsWith('/') && !glob.includes('/') ? `${glob}/**` : glob
  return picomatch(g, { dot: true, nocase: true })
}
