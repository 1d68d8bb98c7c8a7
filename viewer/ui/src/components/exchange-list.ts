import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { ExchangeSummary } from '../../../../model/summary.js'
import { isError } from '../filter.js'
import { formatDuration, formatSize, formatTime } from '../format.js'

/** Every row has the same height, so the visible window is arithmetic: no measuring, smooth at 100,000 rows. */
export const ROW_H = 22
/** Rows rendered above and below the viewport, so fast scrolling does not flash blank. */
const OVERSCAN = 12

export type OpenDetail = { seq: number }

/**
 * The exchange table, virtualised: only the rows in view (plus a margin) are in the DOM.
 * Columns: seq, envelope OK/Error (transport failures too), method, path, identity, time, duration, size.
 * The start every path shares (`prefix`) is shown once, in the header; each row's title keeps its full URL.
 *
 * @fires exchange-open - a row was clicked (detail: OpenDetail)
 */
export class ExchangeList extends LitElement {
  static override properties = {
    items: { attribute: false },
    cursor: { type: Number },
    opened: { type: Number },
    follow: { type: Boolean },
    prefix: { type: String },
    _top: { state: true },
    _height: { state: true },
  }

  declare items: ExchangeSummary[]
  /** The keyboard cursor's seq. */
  declare cursor: number | null
  /** The seq shown in the detail pane. */
  declare opened: number | null
  /** Keep the newest row in view when rows arrive while scrolled to the bottom (live recording). */
  declare follow: boolean
  /** The start of every path, shown in the header instead of in each row; '' shows full paths. */
  declare prefix: string
  declare private _top: number
  declare private _height: number
  private _resize: ResizeObserver | null = null
  private _frame = 0
  private _wasAtBottom = false
  /**
   * The cursor's row until it has been brought into view: a link names an exchange before the page holding its row
   * has arrived. Dropped once the user scrolls by hand, so a late page does not pull the list away from them.
   */
  private _reveal: number | null = null
  /** Passive, as a listener on wheel must be for scrolling to stay smooth. */
  private readonly _onUserScroll = { handleEvent: () => (this._reveal = null), passive: true }

  constructor() {
    super()
    this.items = []
    this.cursor = null
    this.opened = null
    this.follow = true
    this.prefix = ''
    this._top = 0
    this._height = 600
  }

  private get _scroller(): HTMLElement | null {
    return this.renderRoot.querySelector<HTMLElement>('.scroller')
  }

  protected override firstUpdated(): void {
    const s = this._scroller
    if (!s) return
    this._resize = new ResizeObserver(() => (this._height = s.clientHeight))
    this._resize.observe(s)
    this._height = s.clientHeight
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._resize?.disconnect()
    cancelAnimationFrame(this._frame)
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    const s = this._scroller
    if (changed.has('items') && s) this._wasAtBottom = s.scrollTop > 0 && s.scrollTop + s.clientHeight >= s.scrollHeight - ROW_H
  }

  protected override updated(changed: PropertyValues<this>): void {
    const s = this._scroller
    if (changed.has('items') && s && this.follow && this._wasAtBottom) s.scrollTop = s.scrollHeight
    if (changed.has('cursor')) this._reveal = this.cursor
    if (this._reveal !== null && (changed.has('cursor') || changed.has('items')) && this.scrollToSeq(this._reveal)) this._reveal = null
  }

  /** Brings a row into view (the least scrolling that shows it whole); false when the row is not in the list. */
  scrollToSeq(seq: number): boolean {
    const s = this._scroller
    const i = this.items.findIndex((x) => x.seq === seq)
    if (!s || i < 0) return false
    const y = i * ROW_H
    if (y < s.scrollTop) s.scrollTop = y
    else if (y + ROW_H > s.scrollTop + s.clientHeight) s.scrollTop = y + ROW_H - s.clientHeight
    return true
  }

  private _onScroll(e: Event): void {
    const t = e.currentTarget as HTMLElement
    cancelAnimationFrame(this._frame)
    this._frame = requestAnimationFrame(() => (this._top = t.scrollTop))
  }

  override render(): TemplateResult {
    const n = this.items.length
    const first = Math.max(0, Math.floor(this._top / ROW_H) - OVERSCAN)
    const last = Math.min(n, Math.ceil((this._top + this._height) / ROW_H) + OVERSCAN)
    const rows: TemplateResult[] = []
    for (let i = first; i < last; i++) rows.push(this._row(this.items[i] as ExchangeSummary, i))
    return html`
      <div class="head row" role="row">
        <span>#</span><span>Envelope</span><span>Method</span><span class="path" title=${this.prefix ? `every path listed starts with ${this.prefix}` : nothing}><bdi>Path${this.prefix ? html` <span class="prefix" data-testid="path-prefix">${this.prefix}</span>` : nothing}</bdi></span><span>Identity</span><span>Time</span><span class="r">Duration</span><span class="r">Size</span>
      </div>
      <div class="scroller" data-testid="exchange-scroller" @scroll=${this._onScroll} @wheel=${this._onUserScroll} @pointerdown=${this._onUserScroll} role="grid" aria-rowcount=${n}>
        <div class="spacer" style="height:${n * ROW_H}px">${rows}</div>
      </div>
    `
  }

  private _row(x: ExchangeSummary, i: number): TemplateResult {
    const err = isError(x)
    const path = this.prefix && x.path.startsWith(this.prefix) ? x.path.slice(this.prefix.length) : x.path
    const cls = `row ${err ? 'err' : ''} ${x.seq === this.opened ? 'open' : ''} ${x.seq === this.cursor ? 'cursor' : ''}`
    const badge = x.transportError
      ? html`<span class="badge err" title="transport failure">${x.transportError}</span>`
      : x.ok === true
        ? html`<span class="badge ok">OK</span>`
        : x.ok === false
          ? html`<span class="badge err" title=${x.errorCode ?? 'Error'}>${x.errorCode ?? 'Error'}</span>`
          : html`<span class="badge none" title="not an envelope">${x.status ?? '—'}</span>`
    return html`<div class=${cls} role="row" data-testid="exchange-row" data-seq=${x.seq} style="transform:translateY(${i * ROW_H}px)" @click=${() => this.dispatchEvent(new CustomEvent<OpenDetail>('exchange-open', { detail: { seq: x.seq }, bubbles: true, composed: true }))}>
      <span class="seq">${x.seq}</span>
      <span>${badge}</span>
      <span class="method">${x.method}</span>
      <span class="path" title=${x.host + x.path}><bdi>${path}${x.resultCount !== null && x.resultCount > 1 ? html` <span class="muted">[${x.resultCount}]</span>` : nothing}</bdi></span>
      <span class="ident">${x.identity ?? ''}</span>
      <span class="time" title=${x.startedAt}>${formatTime(x.startedAt)}</span>
      <span class="r">${formatDuration(x.durationMs)}</span>
      <span class="r">${formatSize(x.responseSize)}</span>
    </div>`
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; min-height: 0; min-width: 0; overflow: hidden; font-size: 12px; }
    .row { display: grid; grid-template-columns: 36px 92px 44px minmax(80px, 1fr) 78px 88px 54px 56px; gap: 0 6px; align-items: center; height: ${ROW_H}px; padding: 0 10px; box-sizing: border-box; white-space: nowrap; }
    .row > span { overflow: hidden; text-overflow: ellipsis; }
    .head { background: var(--bg-alt); border-bottom: 1px solid var(--border); color: var(--fg-muted); font-weight: 600; font-size: 11px; flex: none; }
    .head .prefix { font: 400 11px var(--font-mono); }
    .scroller { flex: 1; overflow: auto; position: relative; min-height: 0; outline: none; }
    .spacer { position: relative; }
    .spacer .row { position: absolute; left: 0; right: 0; top: 0; cursor: default; border-bottom: 1px solid #f0f2f4; font-family: var(--font-mono); }
    .spacer .row:hover { background: var(--bg-alt); }
    .row.err { background: #fff5f5; }
    .row.err .path { color: #82071e; }
    .row.cursor { box-shadow: inset 3px 0 0 var(--accent); }
    .row.open, .row.open:hover { background: var(--sel-bg); }
    .seq, .time, .ident, .r, .muted { color: var(--fg-muted); }
    .r { text-align: right; }
    .method { font-weight: 600; }
    /* When cut, cut the start: a path's distinctive end, and the end of the shared prefix the rows go on from. */
    .path { direction: rtl; text-align: left; }
    .path bdi { direction: ltr; unicode-bidi: isolate; }
    .badge { font: 600 10.5px/16px var(--font-ui); padding: 0 6px; border-radius: 8px; }
    .badge.ok { background: var(--ok-bg); color: var(--ok); }
    .badge.err { background: var(--err); color: #fff; }
    .badge.none { background: var(--bg-alt); color: var(--fg-muted); }
  `
}

customElements.define('exchange-list', ExchangeList)

declare global {
  interface HTMLElementTagNameMap {
    'exchange-list': ExchangeList
  }
  interface HTMLElementEventMap {
    'exchange-open': CustomEvent<OpenDetail>
  }
}
