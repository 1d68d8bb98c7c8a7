import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import { repeat } from 'lit/directives/repeat.js'
import { parseEntityKey } from '../../../../model/entities.js'
import { api, type FindMatch } from '../api.js'
import { reportError } from '../report-error.js'
import { entityHref, exchangeHref } from '../route.js'

/** The most matches listed (asked of the server); the rest are counted (`reltape find` lists them all). */
const SHOWN = 200
/** How long typing pauses before the search runs (Enter runs it at once). */
const DEBOUNCE_MS = 300

/**
 * The search over every session (`GET /api/find`, what `reltape find` answers): an entity (`Clients#11`), an Id, an
 * `Error.Code` or a string. Each match links to its exchange and, when it sits in an entity, to that entity's
 * timeline. Recorded text is rendered as text (Lit's escaping), never as HTML.
 *
 * Once the box holds another query, the matches listed answer the old one: they stay in place (dimmed, so the page
 * does not jump at each key) but cannot be clicked or focused (`inert`, `aria-busy`) until the new answer replaces
 * them, so that the list never changes under a pointer about to click it. Each match keeps its own element
 * (`repeat` by key): a link is never reused to show another match.
 */
export class FindBox extends LitElement {
  static override properties = {
    _query: { state: true },
    _matches: { state: true },
    _total: { state: true },
    _busy: { state: true },
    _typed: { state: true },
  }

  /** The query the matches answer (null: no search yet). */
  declare private _query: string | null
  declare private _matches: FindMatch[]
  /** How many matches there are in all (more than listed when over SHOWN). */
  declare private _total: number
  declare private _busy: boolean
  /** The query in the box now (trimmed): when it is not `_query`, the matches listed answer an older one. */
  declare private _typed: string
  private _timer: ReturnType<typeof setTimeout> | null = null
  private _abort: AbortController | null = null

  constructor() {
    super()
    this._query = null
    this._matches = []
    this._total = 0
    this._busy = false
    this._typed = ''
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    if (this._timer) clearTimeout(this._timer)
    this._abort?.abort()
  }

  private _onInput(e: Event): void {
    const q = (e.target as HTMLInputElement).value
    this._typed = q.trim()
    if (this._timer) clearTimeout(this._timer)
    this._timer = setTimeout(() => void this._search(q), DEBOUNCE_MS)
  }

  private _onSubmit(e: Event): void {
    e.preventDefault()
    if (this._timer) clearTimeout(this._timer)
    const input = this.renderRoot.querySelector('input')
    this._typed = (input?.value ?? '').trim()
    void this._search(input?.value ?? '')
  }

  private async _search(raw: string): Promise<void> {
    const q = raw.trim()
    this._abort?.abort()
    if (q === '') {
      this._query = null
      this._matches = []
      this._busy = false
      return
    }
    if (q === this._query && !this._busy) return
    const abort = (this._abort = new AbortController())
    this._busy = true
    try {
      const { matches, total } = await api.find(q, SHOWN, abort.signal)
      if (abort.signal.aborted) return
      this._matches = matches
      this._total = total
      this._query = q
    } catch (err) {
      if ((err as Error).name === 'AbortError') return
      reportError(err, `searching the sessions for ${JSON.stringify(q)}`)
    } finally {
      if (this._abort === abort) this._busy = false
    }
  }

  private _row(m: FindMatch): TemplateResult {
    const entity = m.entity !== undefined ? parseEntityKey(m.entity) : null
    return html`<li data-testid="find-result" data-session=${m.session} data-seq=${m.seq}>
      <a class="call" data-testid="find-exchange" href=${exchangeHref(m.session, m.seq)}><span class="session">${m.session}</span><span class="seq">#${m.seq}</span></a>
      <span class="where">${m.where}</span>
      ${entity && m.entity !== undefined
        ? html`<a class="entity" data-testid="find-entity" href=${entityHref(entity.type, entity.id, m.session)}>${m.entity}</a>`
        : nothing}
    </li>`
  }

  override render(): TemplateResult {
    const shown = this._matches
    const total = Math.max(this._total, shown.length)
    const stale = this._typed !== this._query
    return html`<form role="search" @submit=${this._onSubmit}>
        <input
          type="search"
          data-testid="find-input"
          aria-label="find in all sessions"
          placeholder="Find in all sessions: Clients#11, an Id, an Error.Code, text…"
          @input=${this._onInput}
        />
        ${this._busy ? html`<span class="muted" data-testid="find-busy">searching…</span>` : nothing}
      </form>
      ${this._query === null
        ? nothing
        : html`<div class="results ${stale ? 'stale' : ''}" data-testid="find-results" aria-busy=${stale ? 'true' : 'false'} ?inert=${stale}>
            <p class="muted" data-testid="find-count">
              ${total === 0
                ? html`Nothing found for <code>${this._query}</code>.`
                : html`${total.toLocaleString()} match${total === 1 ? '' : 'es'} for <code>${this._query}</code>${total > shown.length ? html` (the first ${shown.length.toLocaleString()} shown; \`reltape find\` lists them all)` : nothing}`}
            </p>
            <ul>
              ${repeat(shown, matchKey, (m) => this._row(m))}
            </ul>
          </div>`}`
  }

  static override styles = css`
    :host { display: block; max-width: 1100px; margin: 0 0 12px; font-size: 13px; }
    form { display: flex; gap: 8px; align-items: center; }
    input { flex: 1; max-width: 520px; font: inherit; padding: 4px 8px; border: 1px solid var(--border); border-radius: 4px; }
    .results { margin-top: 6px; max-height: 40vh; overflow: auto; border: 1px solid var(--border); border-radius: 4px; padding: 4px 10px; }
    ul { list-style: none; margin: 0; padding: 0; }
    li { display: flex; gap: 12px; align-items: baseline; padding: 2px 0; border-bottom: 1px solid #f0f2f4; }
    .call, .where, .entity { font-family: var(--font-mono); font-size: 12px; word-break: break-all; }
    .seq { color: var(--fg-muted); margin-left: 2px; }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    .muted { color: var(--fg-muted); margin: 4px 0; }
    .results.stale { opacity: 0.5; }
  `
}

/** A match's identity in a list: one match per session, seq, place and entity (store/find.ts drops repeats). */
function matchKey(m: FindMatch): string {
  return JSON.stringify([m.session, m.seq, m.where, m.entity ?? null])
}

customElements.define('find-box', FindBox)

declare global {
  interface HTMLElementTagNameMap {
    'find-box': FindBox
  }
}
