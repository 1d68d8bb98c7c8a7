import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { EntitySummary } from '../../../../model/entities.js'
import { api, urls, type EntityList, type EntityTimeline } from '../api.js'
import { valueLine } from '../format.js'
import { reportError } from '../report-error.js'
import { entityHref, exchangeHref, formatRoute } from '../route.js'

/** Rows of each call table shown at first, and added by each "show more". */
const FIRST_ROWS = 200
const MORE_ROWS = 1000
/** A live reload waits for this long without new exchanges: a recorder writing quickly causes one reload. */
const LIVE_RELOAD_MS = 300

/** A value as one line of text (rendered with Lit's escaping, never as HTML). */
const show = (value: unknown) => valueLine(value, '—')

/**
 * A session's entities: the list (type, Id, label, first and last seen, versions, calls; filtered by type and text),
 * or with `type` and `entityId` set, one entity's page: its versions with the changed fields as old → new, the calls that
 * carried it and those that referred to it, each linking to the exchange.
 */
export class EntityView extends LitElement {
  static override properties = {
    session: { type: String },
    type: { type: String },
    entityId: { attribute: false },
    _list: { state: true },
    _entity: { state: true },
    _typeFilter: { state: true },
    _text: { state: true },
    _failed: { state: true },
    _shown: { state: true },
  }

  declare session: string
  declare type: string | null
  declare entityId: string | null
  declare private _list: EntityList | null
  declare private _entity: EntityTimeline | null
  declare private _typeFilter: string
  declare private _text: string
  declare private _failed: string | null
  /** Rows shown of each call table: an entity carried by every call of a long session has thousands. */
  declare private _shown: { carried: number; referenced: number }
  #abort: AbortController | null = null
  /** The session `_list` is of: the element is kept when the route moves to another session's entities. */
  #listOf: string | null = null
  #events: EventSource | null = null
  #eventsFor: string | null = null
  #reload: ReturnType<typeof setTimeout> | undefined

  constructor() {
    super()
    this.session = ''
    this.type = null
    this.entityId = null
    this._list = null
    this._entity = null
    this._typeFilter = ''
    this._text = ''
    this._failed = null
    this._shown = { carried: FIRST_ROWS, referenced: FIRST_ROWS }
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('session') || changed.has('type') || changed.has('entityId')) {
      this._watch()
      void this._load(false)
    }
  }

  override connectedCallback(): void {
    super.connectedCallback()
    if (this.session) this._watch()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this.#abort?.abort()
    this.#events?.close()
    this.#events = null
    this.#eventsFor = null
    clearTimeout(this.#reload)
  }

  /**
   * Follows the session as it is recorded: a new exchange reloads what is shown (the list, or the entity's page)
   * once the exchanges stop arriving for a moment; a reconnection reloads too (what came meanwhile was not sent).
   */
  private _watch(): void {
    if (this.#eventsFor === this.session || !this.session) return
    this.#events?.close()
    this.#eventsFor = this.session
    const es = (this.#events = new EventSource(urls.sessionEvents(this.session)))
    let opened = false
    const later = () => {
      clearTimeout(this.#reload)
      this.#reload = setTimeout(() => void this._load(true), LIVE_RELOAD_MS)
    }
    es.addEventListener('open', () => {
      if (opened) later()
      opened = true
    })
    es.addEventListener('exchange', later)
  }

  /** `quietly`: a live reload, which keeps what is shown until the new answer replaces it. */
  private async _load(quietly: boolean): Promise<void> {
    this.#abort?.abort()
    const abort = (this.#abort = new AbortController())
    if (!quietly) this._failed = null
    try {
      if (this.type !== null && this.entityId !== null) {
        if (!quietly) {
          this._entity = null
          this._shown = { carried: FIRST_ROWS, referenced: FIRST_ROWS }
        }
        this._entity = await api.entity(this.session, this.type, this.entityId, abort.signal)
      } else if (quietly || this._list === null || this.#listOf !== this.session) {
        const session = this.session
        if (this.#listOf !== session) this._list = null // another session's list is not shown meanwhile
        this._list = await api.entities(session, abort.signal)
        this.#listOf = session
      }
      this._failed = null
    } catch (err) {
      // A live reload that failed leaves what is shown: the next change tries again.
      if (quietly || (err as Error).name === 'AbortError') return
      this._failed = (err as Error).message
      reportError(err, this.type ? `loading ${this.type} #${this.entityId}` : 'loading the entities')
    }
  }

  override render(): TemplateResult {
    return html`
      <div class="bar">
        <a class="back" href="#/">Sessions</a><span class="sep">/</span>
        <a class="back" data-testid="session-link" href=${formatRoute({ session: this.session })}>${this.session}</a><span class="sep">/</span>
        ${this.type !== null
          ? html`<a class="back" data-testid="entities-link" href=${formatRoute({ session: this.session, entities: { type: null, id: null } })}>Entities</a><span class="sep">/</span><b>${this.type} #${this.entityId}</b>`
          : html`<b>Entities</b>`}
      </div>
      ${this._failed ? html`<div class="fail" data-testid="entities-failed">${this._failed}</div>` : nothing}
      <div class="body">${this.type !== null ? this._page() : this._listView()}</div>
    `
  }

  private _listView(): TemplateResult {
    const list = this._list
    if (!list) return html`<p class="muted">Loading…</p>`
    const text = this._text.trim().toLowerCase()
    const items = list.items.filter(
      (e) => (!this._typeFilter || e.type === this._typeFilter) && (!text || e.key.toLowerCase().includes(text) || e.label.toLowerCase().includes(text)),
    )
    return html`
      <div class="filters">
        <select data-testid="entity-type" @change=${(e: Event) => (this._typeFilter = (e.target as HTMLSelectElement).value)}>
          <option value="">all types</option>
          ${list.types.map((t) => html`<option value=${t} ?selected=${t === this._typeFilter}>${t}</option>`)}
        </select>
        <input data-testid="entity-filter" type="search" placeholder="Filter by Id or label" .value=${this._text} @input=${(e: Event) => (this._text = (e.target as HTMLInputElement).value)}>
        <span class="muted" data-testid="entity-count">${items.length === list.total ? list.total : `${items.length} of ${list.total}`}</span>
      </div>
      <table data-testid="entity-list">
        <thead><tr><th>type</th><th>Id</th><th>label</th><th>first seen</th><th>last seen</th><th>versions</th><th>calls</th></tr></thead>
        <tbody>${items.slice(0, 2000).map((e) => this._row(e))}</tbody>
      </table>
      ${items.length > 2000 ? html`<p class="muted">showing 2,000 of ${items.length}: filter to narrow</p>` : nothing}
    `
  }

  private _row(e: EntitySummary): TemplateResult {
    return html`<tr data-testid="entity-row" data-key=${e.key}>
      <td>${e.type}</td>
      <td class="mono"><a href=${entityHref(e.type, e.id, this.session)}>${String(e.id)}</a></td>
      <td><a href=${entityHref(e.type, e.id, this.session)}>${e.label}</a></td>
      <td><a href=${exchangeHref(this.session, e.firstSeq)}>#${e.firstSeq}</a></td>
      <td><a href=${exchangeHref(this.session, e.lastSeq)}>#${e.lastSeq}</a></td>
      <td class="num">${e.versions}</td>
      <td class="num">${e.calls}</td>
    </tr>`
  }

  private _page(): TemplateResult {
    const e = this._entity
    if (!e) return html`<p class="muted">Loading…</p>`
    return html`
      <h2 data-testid="entity-label">${e.label}</h2>
      <p class="muted">seen from <a href=${exchangeHref(this.session, e.firstSeq)}>#${e.firstSeq}</a> to <a href=${exchangeHref(this.session, e.lastSeq)}>#${e.lastSeq}</a> in <span data-testid="entity-calls">${e.calls}</span> ${e.calls === 1 ? 'call' : 'calls'} · ${e.versions} ${e.versions === 1 ? 'version' : 'versions'}</p>
      <p data-testid="entity-identities"><span class="muted">by</span>
        ${e.identities.map(
          (i, n) => html`${n > 0 ? ', ' : ''}<span class="mono" data-identity=${i.identity ?? ''}>${i.identity ?? 'no identity'}</span> <span class="muted">(${i.calls} ${i.calls === 1 ? 'call' : 'calls'})</span>`,
        )}
      </p>
      <h3>Versions</h3>
      ${e.timeline.length === 0 ? html`<p class="muted">Never carried: only referred to.</p>` : nothing}
      <ol class="versions">
        ${e.timeline.map(
          (v, i) => html`<li data-testid="entity-version">
            <div>version ${i + 1}: <a href=${exchangeHref(this.session, v.firstSeq)}>#${v.firstSeq}</a>${v.lastSeq !== v.firstSeq ? html` – <a href=${exchangeHref(this.session, v.lastSeq)}>#${v.lastSeq}</a>` : nothing}
              <span class="muted">(${v.appearances} ${v.appearances === 1 ? 'appearance' : 'appearances'}, first at ${v.at.where})</span></div>
            ${v.changes.length
              ? html`<table class="changes">${v.changes.map(
                  (c) => html`<tr data-testid="entity-change" data-field=${c.field}><td class="mono">${c.field}</td><td class="old">${show(c.old)}</td><td>→</td><td class="new">${show(c.new)}</td></tr>`,
                )}</table>`
              : i === 0 && v.values
                ? html`<details><summary>fields</summary><table class="changes">${Object.entries(v.values).map(([k, val]) => html`<tr><td class="mono">${k}</td><td>${show(val)}</td></tr>`)}</table></details>`
                : nothing}
          </li>`,
        )}
      </ol>
      <h3>Carried by ${e.carriedIn.length} ${e.carriedIn.length === 1 ? 'answer' : 'answers'}</h3>
      <table data-testid="entity-carried">
        ${e.carriedIn.slice(0, this._shown.carried).map(
          (c) => html`<tr data-testid="entity-call"><td><a href=${exchangeHref(this.session, c.seq, c.where)}>#${c.seq}</a></td><td class="mono">${c.method ?? ''}</td><td class="mono muted">${c.identity ?? ''}</td><td class="mono">${c.where}</td><td class="muted">version ${c.version + 1}</td></tr>`,
        )}
      </table>
      ${this._more('carried', e.carriedIn.length)}
      <h3>Referred to ${e.referencedIn.length} ${e.referencedIn.length === 1 ? 'time' : 'times'}</h3>
      <table data-testid="entity-referenced">
        ${e.referencedIn.slice(0, this._shown.referenced).map(
          (r) => html`<tr data-testid="entity-ref"><td><a href=${exchangeHref(this.session, r.seq, r.where)}>#${r.seq}</a></td><td class="mono">${r.method ?? ''}</td><td class="mono muted">${r.identity ?? ''}</td><td class="mono">${r.field}</td><td class="mono">${r.where}</td>
            <td>${r.from ? html`from <a href=${entityHref(r.from.split('#')[0]!, r.from.slice(r.from.indexOf('#') + 1), this.session)}>${r.from}</a>` : nothing}${r.resolved ? nothing : html` <span class="muted">(not in that answer's Rels)</span>`}</td></tr>`,
        )}
      </table>
      ${this._more('referenced', e.referencedIn.length)}
    `
  }

  /** Under a call table cut short: how many rows are left, and a button that shows the next ones. */
  private _more(table: 'carried' | 'referenced', total: number): TemplateResult | typeof nothing {
    const shown = this._shown[table]
    if (total <= shown) return nothing
    const next = Math.min(MORE_ROWS, total - shown)
    return html`<p class="muted">showing ${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}
      <button data-testid=${`entity-more-${table}`} @click=${() => (this._shown = { ...this._shown, [table]: shown + next })}>show ${next.toLocaleString('en-US')} more</button></p>`
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; height: 100%; min-height: 0; font-size: 12px; }
    .bar { display: flex; gap: 8px; align-items: baseline; padding: 6px 12px; border-bottom: 1px solid var(--border); }
    .back, a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    .sep, .muted { color: var(--fg-muted); }
    .body { flex: 1; overflow: auto; padding: 8px 12px; }
    .fail { color: var(--err); background: var(--err-bg); padding: 8px 12px; }
    .filters { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
    .filters input { font: 12px var(--font-mono); padding: 3px 6px; border: 1px solid var(--border); border-radius: 6px; width: 280px; }
    table { border-collapse: collapse; }
    th { text-align: left; color: var(--fg-muted); font-weight: normal; padding: 2px 8px; }
    td { padding: 2px 8px; vertical-align: top; }
    .mono { font-family: var(--font-mono); }
    .num { text-align: right; }
    h2 { font-size: 15px; margin: 4px 0; font-family: var(--font-mono); }
    h3 { font-size: 13px; margin: 14px 0 4px; }
    ol.versions { padding-left: 20px; }
    ol.versions li { margin-bottom: 6px; }
    .old { color: var(--err); font-family: var(--font-mono); word-break: break-word; }
    .new { color: var(--ok); font-family: var(--font-mono); word-break: break-word; }
  `
}

customElements.define('entity-view', EntityView)

declare global {
  interface HTMLElementTagNameMap {
    'entity-view': EntityView
  }
}
