import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { ExchangeSummary } from '../../../../model/summary.js'
import type { RelsConfig } from '../../../../model/rels.js'
import { api, urls, type SessionDetail } from '../api.js'
import { compileFilter, isError, parseFilter } from '../filter.js'
import { sharedPrefix, shownPrefix } from '../path-prefix.js'
import { reportError } from '../report-error.js'
import { type Tab, formatRoute, navigate } from '../route.js'
import { tokenRefusal } from '../token.js'
import './exchange-list.js'
import './exchange-view.js'
// HAR export button and import warnings (session-har.ts).
import './session-har.js'

/** The first page is small so the list shows at once; the rest follows in larger pages. */
const FIRST_PAGE = 300
const PAGE = 1000

/**
 * One session: the filter box, the exchange list (summaries fetched in pages, live rows over SSE)
 * and the opened exchange. Keyboard: j/k or ↓/↑ move, Enter opens, / focuses the filter, Esc leaves it.
 */
export class SessionView extends LitElement {
  static override properties = {
    name: { type: String },
    seq: { type: Number },
    tab: { type: String },
    filter: { type: String },
    at: { attribute: false },
    config: { attribute: false },
    _all: { state: true },
    _total: { state: true },
    _detail: { state: true },
    _cursor: { state: true },
    _live: { state: true },
    _failed: { state: true },
  }

  declare name: string
  declare seq: number | null
  declare tab: Tab
  declare filter: string
  /** A JSON path in the open exchange's answer to show selected. */
  declare at: string | null
  declare config: RelsConfig
  declare private _all: ExchangeSummary[]
  declare private _total: number
  declare private _detail: SessionDetail | null
  declare private _cursor: number | null
  declare private _live: boolean
  declare private _failed: string | null
  private _seen = new Set<number>()
  /** Envelope and transport errors among the rows, for the counter. */
  private _errors = 0
  /** The directory every row's path starts with, kept as rows arrive (null before the first row). */
  private _prefix: string | null = null
  private _abort: AbortController | null = null
  private _events: EventSource | null = null
  private _retry: ReturnType<typeof setTimeout> | undefined
  private _shown: ExchangeSummary[] = []
  private _shownFor: { all: ExchangeSummary[]; filter: string } | null = null
  private readonly _onKey = (e: KeyboardEvent) => this._key(e)

  constructor() {
    super()
    this.name = ''
    this.seq = null
    this.tab = 'envelope'
    this.filter = ''
    this.config = {}
    this._all = []
    this._total = 0
    this._detail = null
    this._cursor = null
    this._live = false
    this._failed = null
  }

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener('keydown', this._onKey)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener('keydown', this._onKey)
    this._stop()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('name')) void this._load()
    // The keyboard goes on from the exchange that was opened, however it was (click, link, Enter).
    if (changed.has('seq') && this.seq !== null) this._cursor = this.seq
  }

  private _stop(): void {
    clearTimeout(this._retry)
    this._abort?.abort()
    this._events?.close()
    this._events = null
  }

  private async _load(): Promise<void> {
    this._stop()
    const abort = new AbortController()
    this._abort = abort
    this._all = []
    this._errors = 0
    this._prefix = null
    this._seen = new Set()
    this._total = 0
    this._failed = null
    this._detail = null
    const name = this.name
    // Subscribe before paging, so a row appended meanwhile is not lost; duplicates are dropped by seq.
    this._subscribe(name)
    try {
      this._detail = await api.session(name, abort.signal)
      let offset = 0
      let limit = FIRST_PAGE
      for (;;) {
        const page = await api.exchanges(name, offset, limit, abort.signal)
        if (abort.signal.aborted) return
        this._total = Math.max(page.total, this._total)
        this._add(page.items)
        offset += page.items.length
        if (page.items.length === 0 || offset >= page.total) break
        limit = PAGE
      }
    } catch (err) {
      if (abort.signal.aborted) return
      this._failed = (err as Error).message
      reportError(err, `session ${name}`)
    }
  }

  private _subscribe(name: string, afterSeq?: number): void {
    const es = new EventSource(urls.sessionEvents(name, afterSeq))
    this._events = es
    es.addEventListener('open', () => (this._live = true))
    es.addEventListener('error', () => {
      this._live = false
      // EventSource would reconnect by itself, but to "new rows from now on": rows recorded while the
      // connection was down would be lost. Reconnect ourselves, asking for everything after the last row.
      es.close()
      clearTimeout(this._retry)
      this._retry = setTimeout(() => {
        if (this._events === es && this.name === name && !this._failed && tokenRefusal() === null) this._subscribe(name, this._all[this._all.length - 1]?.seq ?? 0)
      }, 2000)
    })
    es.addEventListener('exchange', (e) => {
      try {
        this._add([JSON.parse((e as MessageEvent<string>).data) as ExchangeSummary])
      } catch (err) {
        reportError(err, 'live exchange event')
      }
    })
  }

  /** Adds rows, keeping seq order and ignoring ones already there (a page and a live event can overlap). */
  private _add(items: ExchangeSummary[]): void {
    const fresh = items.filter((x) => !this._seen.has(x.seq))
    if (fresh.length === 0) return
    for (const x of fresh) this._seen.add(x.seq)
    const last = this._all[this._all.length - 1]
    const inOrder = fresh.every((x, i) => (i === 0 ? !last || x.seq > last.seq : x.seq > (fresh[i - 1] as ExchangeSummary).seq))
    const next = inOrder ? this._all.concat(fresh) : [...this._all, ...fresh].sort((a, b) => a.seq - b.seq)
    this._total = Math.max(this._total, next.length)
    this._all = next
    // Counted as rows arrive, not per render: a 10,000-row session renders once per page while it loads.
    for (const x of fresh) if (isError(x)) this._errors++
    // Over every row loaded, not just the filtered ones: the prefix stays put while the user types a filter.
    this._prefix = sharedPrefix(this._prefix, fresh)
  }

  /** The filtered rows, recomputed only when the rows or the filter change. */
  private _rows(): ExchangeSummary[] {
    if (this._shownFor?.all === this._all && this._shownFor.filter === this.filter) return this._shown
    const f = compileFilter(this.filter)
    this._shown = f ? this._all.filter(f) : this._all
    this._shownFor = { all: this._all, filter: this.filter }
    return this._shown
  }

  private _key(e: KeyboardEvent): void {
    const path = e.composedPath()
    const inInput = path.some((el) => el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement)
    if (e.key === '/' && !inInput) {
      e.preventDefault()
      this.renderRoot.querySelector<HTMLInputElement>('input.filter')?.focus()
      return
    }
    if (inInput) {
      // Leaving the filter box hands the keys back to the list.
      if (e.key === 'Escape' || e.key === 'Enter' || e.key === 'ArrowDown') (path[0] as HTMLElement).blur?.()
      return
    }
    if (e.ctrlKey || e.metaKey || e.altKey) return
    const rows = this._rows()
    if (rows.length === 0) return
    const at = rows.findIndex((x) => x.seq === this._cursor)
    let next = at
    if (e.key === 'j' || e.key === 'ArrowDown') next = at < 0 ? 0 : Math.min(rows.length - 1, at + 1)
    else if (e.key === 'k' || e.key === 'ArrowUp') next = at < 0 ? 0 : Math.max(0, at - 1)
    else if (e.key === 'Home' || e.key === 'g') next = 0
    else if (e.key === 'End' || e.key === 'G') next = rows.length - 1
    else if (e.key === 'Enter' && at >= 0) {
      // Enter on a focused button or link is that control's, not the list's.
      if (path.some((el) => el instanceof HTMLButtonElement || el instanceof HTMLAnchorElement)) return
      navigate({ seq: (rows[at] as ExchangeSummary).seq })
      e.preventDefault()
      return
    } else return
    e.preventDefault()
    this._cursor = (rows[next] as ExchangeSummary).seq
  }

  private _onFilter(e: Event): void {
    navigate({ filter: (e.target as HTMLInputElement).value }, true)
  }

  override render(): TemplateResult {
    const rows = this._rows()
    const errors = this._errors
    const problems = parseFilter(this.filter).problems
    const s = this._detail?.session
    return html`
      <div class="bar">
        <a class="back" href="#/">Sessions</a><span class="sep">/</span><b class="name">${this.name}</b>
        <a class="back" data-testid="entities-link" href=${formatRoute({ session: this.name, entities: { type: null, id: null } })}>Entities</a>
        ${s ? html`<span class="muted">${s.recording.mode}${s.recording.upstream ? ` → ${s.recording.upstream}` : ''} · ${s.identities.length} ${s.identities.length === 1 ? 'identity' : 'identities'}</span>` : nothing}
        <session-har-export .name=${this.name}></session-har-export>
        <span class="live ${this._live ? 'on' : ''}" data-testid="live" title=${this._live ? 'new exchanges appear as they are recorded' : 'not connected for live updates'}>● live</span>
      </div>
      <import-warnings .warnings=${(this._detail as (SessionDetail & { importWarnings?: string[] }) | null)?.importWarnings ?? []}></import-warnings>
      ${this._failed ? html`<div class="fail" data-testid="session-failed">${this._failed}</div>` : nothing}
      <div class="split">
        <div class="left">
          <div class="filterbar">
            <input class="filter" data-testid="filter" type="search" spellcheck="false" placeholder="Filter   ok:false  path:/chats  identity:identity-1  status:4xx  error:Code   ( / )" .value=${this.filter} @input=${this._onFilter}>
            <span class="counts" data-testid="counts">${rows.length === this._all.length ? `${this._all.length.toLocaleString()}` : `${rows.length.toLocaleString()} of ${this._all.length.toLocaleString()}`}${this._all.length < this._total ? ` (loading ${this._total.toLocaleString()})` : ''} · <span class=${errors ? 'errs' : ''}>${errors} ${errors === 1 ? 'error' : 'errors'}</span></span>
          </div>
          ${problems.length ? html`<div class="problem">${problems.join('; ')}</div>` : nothing}
          <exchange-list .items=${rows} .cursor=${this._cursor} .opened=${this.seq} .prefix=${shownPrefix(this._prefix, this._all.length)} @exchange-open=${(e: CustomEvent<{ seq: number }>) => navigate({ seq: e.detail.seq })}></exchange-list>
        </div>
        <div class="right">
          ${this.seq !== null
            ? html`<exchange-view .session=${this.name} .seq=${this.seq} .tab=${this.tab} .at=${this.at} .config=${this.config} .identities=${this._detail?.session.identities ?? []}></exchange-view>`
            : html`<div class="hint">Select an exchange. <kbd>j</kbd>/<kbd>k</kbd> or arrows move, <kbd>Enter</kbd> opens, <kbd>/</kbd> filters.</div>`}
        </div>
      </div>
    `
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; height: 100%; min-height: 0; }
    .bar { display: flex; gap: 8px; align-items: baseline; padding: 6px 12px; border-bottom: 1px solid var(--border); }
    .back { color: var(--accent); text-decoration: none; }
    .sep, .muted { color: var(--fg-muted); }
    .name { font-family: var(--font-mono); }
    .live { margin-left: auto; color: #afb8c1; font-size: 11px; }
    .live.on { color: var(--ok); }
    .split { flex: 1; display: flex; min-height: 0; }
    .left { width: 48%; min-width: 600px; max-width: 900px; overflow: hidden; display: flex; flex-direction: column; border-right: 1px solid var(--border); min-height: 0; }
    .right { flex: 1; min-width: 0; display: flex; flex-direction: column; min-height: 0; }
    .right > exchange-view { flex: 1; }
    exchange-list { flex: 1; }
    .filterbar { display: flex; gap: 8px; align-items: center; padding: 6px 10px; border-bottom: 1px solid var(--border); }
    input.filter { flex: 1; font: 12px var(--font-mono); padding: 4px 8px; border: 1px solid var(--border); border-radius: 6px; outline: none; }
    input.filter:focus { border-color: var(--accent); box-shadow: 0 0 0 3px rgba(9, 105, 218, .15); }
    .counts { color: var(--fg-muted); font-size: 11px; white-space: nowrap; }
    .errs { color: var(--err); font-weight: 600; }
    .problem { color: var(--warn); background: var(--warn-bg); padding: 2px 10px; font-size: 11px; }
    .fail { color: var(--err); background: var(--err-bg); padding: 8px 12px; }
    .hint { color: var(--fg-muted); padding: 40px; text-align: center; }
    kbd { font: 11px var(--font-mono); border: 1px solid var(--border); border-bottom-width: 2px; border-radius: 3px; padding: 0 4px; background: var(--bg-alt); }
  `
}

customElements.define('session-view', SessionView)

declare global {
  interface HTMLElementTagNameMap {
    'session-view': SessionView
  }
}
