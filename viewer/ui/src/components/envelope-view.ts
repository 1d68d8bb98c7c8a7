import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { Exchange } from '../../../../model/session.js'
import { parsePath } from '../../../../model/entities.js'
import { type Envelope, asEnvelope } from '../../../../model/envelope.js'
import { type RelsConfig, RelsIndex } from '../../../../model/rels.js'
import { afterPaint } from '../after-paint.js'
import { formatSize } from '../format.js'
import { type NodeRef, SELECT_EVENT, type SelectDetail } from '../nodes.js'
import type { JsonTree } from './json-tree.js'
import './json-tree.js'
import './rels-panel.js'
import './rels-graph.js'
import './body-view.js'

/**
 * The Envelope tab: an OK/Error banner, Result as a tree whose `…Id` values expand into Rels,
 * the Rels panel, and a graph of the selected item's neighbourhood.
 * A response that is not an envelope is shown as its body instead.
 */
export class EnvelopeView extends LitElement {
  static override properties = {
    exchange: { attribute: false },
    config: { attribute: false },
    at: { attribute: false },
    session: { type: String },
    _selected: { state: true },
    _resultReveal: { state: true },
    _relsReveal: { state: true },
    _graphShown: { state: true },
  }

  declare exchange: Exchange | null
  declare config: RelsConfig
  /** A JSON path in the answer to show selected (`Rels.Clients[0]`, `Result[2].ClientId`): an entity's page links here. */
  declare at: string | null
  declare session: string
  declare private _selected: NodeRef | null
  declare private _resultReveal: { path: (string | number)[] } | null
  declare private _relsReveal: { path: (string | number)[] } | null
  /**
   * The graph is drawn the frame after the envelope: it is what the eye goes to last, and laying out its SVG would
   * otherwise hold back the first frame that shows the Result and the Rels.
   */
  declare private _graphShown: boolean
  private _envelope: Envelope | null = null
  private _index: RelsIndex | null = null

  constructor() {
    super()
    this.exchange = null
    this.at = null
    this.config = {}
    this.session = ''
    this._selected = null
    this._resultReveal = null
    this._relsReveal = null
    this._graphShown = false
    this.addEventListener(SELECT_EVENT, (e) => this._onSelect((e as CustomEvent<SelectDetail>).detail))
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('exchange') || changed.has('config')) {
      const body = this.exchange?.response?.body
      this._envelope = body?.kind === 'json' ? asEnvelope(body.json) : null
      this._index = this._envelope ? RelsIndex.build(this._envelope, this.config) : null
      this._selected = this._envelope ? { kind: 'result', index: Array.isArray(this._envelope.Result) && this._envelope.Result.length > 0 ? 0 : null } : null
      this._resultReveal = null
      this._relsReveal = null
      this._graphShown = false
    }
    if ((changed.has('exchange') || changed.has('config') || changed.has('at')) && this.at && this._envelope) this._focus(this.at, this._envelope)
  }

  /** Selects what a JSON path of the answer names: a Result item (and the path revealed in it), or a Rels object. */
  private _focus(at: string, env: Envelope): void {
    const keys = parsePath(at)
    if (!keys) return
    if (keys[0] === 'Result') {
      const rest = keys.slice(1)
      this._selected = { kind: 'result', index: Array.isArray(env.Result) && typeof rest[0] === 'number' ? rest[0] : null }
      this._resultReveal = rest.length ? { path: rest } : null
    } else if (keys[0] === 'Rels' && typeof keys[1] === 'string' && typeof keys[2] === 'number') {
      const object = env.Rels[keys[1]]?.[keys[2]]
      if (!object) return
      this._selected = { kind: 'rels', type: keys[1], id: object.Id }
      this._relsReveal = keys.length > 3 ? { path: keys.slice(3) } : null
    }
  }

  protected override updated(): void {
    if (this._graphShown || !this._index) return
    const index = this._index
    afterPaint(() => {
      if (this._index === index) this._graphShown = true
    })
  }

  private _onSelect(d: SelectDetail): void {
    this._selected = d.node
    // A fresh object each time, so following the same link twice flashes twice.
    if (d.path && d.node.kind === 'result') this._resultReveal = { path: d.path }
    if (d.node.kind === 'rels') this._relsReveal = d.path ? { path: d.path } : null
  }

  private _tree(): JsonTree | null {
    return this.renderRoot.querySelector<JsonTree>('json-tree.result')
  }

  override render(): TemplateResult {
    const x = this.exchange
    if (!x) return html``
    if (x.error) {
      return html`<div class="banner err" data-testid="banner"><b>${x.error.code}</b> ${x.error.message}</div>
        ${x.response ? nothing : html`<p class="muted">No response was received.</p>`}`
    }
    if (!x.response) return html`<p class="muted">No response.</p>`
    const env = this._envelope
    const body = x.response.body as typeof x.response.body & { omitted?: boolean }
    if (body.kind === 'text' && body.omitted) {
      return html`<div class="banner none" data-testid="banner">This response (${formatSize(body.size)}) is too large to show as an envelope; its start is shown as text.</div>
        <body-view .body=${body} session=${this.session} .seq=${x.seq} side="response"></body-view>`
    }
    if (!env || !this._index) {
      return html`<div class="banner none" data-testid="banner">The response is not an envelope (${x.response.body.kind === 'empty' ? 'empty body' : x.response.body.contentType || x.response.body.kind}); shown as recorded.</div>
        <body-view .body=${x.response.body} session=${this.session} .seq=${x.seq} side="response"></body-view>`
    }
    const resultIsArray = Array.isArray(env.Result)
    const count = resultIsArray ? (env.Result as unknown[]).length : env.Result === null ? 0 : 1
    return html`
      ${env.OK
        ? html`<div class="banner ok" data-testid="banner"><b>OK</b> <span class="muted">Result: ${resultIsArray ? `array of ${count}` : env.Result === null ? 'null' : typeof env.Result}${env.Error !== null ? ' · Error is set although OK is true:' : ''}</span>
            ${env.Error !== null ? html`<pre class="error">${JSON.stringify(env.Error, null, 2)}</pre>` : nothing}</div>`
        : html`<div class="banner err" data-testid="banner"><b>Error</b><pre class="error" data-testid="envelope-error">${JSON.stringify(env.Error, null, 2)}</pre></div>`}
      <div class="grid">
        <section class="result">
          <header>
            <h3>Result <span class="count">${resultIsArray ? `${count} items` : ''}</span></h3>
            <span class="tools">
              <button data-testid="expand-all" @click=${() => this._tree()?.expandAll()}>Expand all</button>
              <button data-testid="collapse-all" @click=${() => this._tree()?.collapseAll()}>Collapse all</button>
            </span>
          </header>
          <json-tree class="result" data-testid="result-tree" .value=${env.Result} .index=${this._index} where="result" .openDepth=${2} .reveal=${this._resultReveal}></json-tree>
        </section>
        <aside>
          <header><h3>Rels <span class="count">${this._index.types.map((t) => `${t} ${this._index?.objects(t).length}`).join(' · ')}</span></h3></header>
          <rels-panel data-testid="rels-panel" .index=${this._index} ?result-is-array=${resultIsArray} .selected=${this._selected} .reveal=${this._relsReveal}></rels-panel>
        </aside>
        ${this._index.references.length === 0 ? nothing : html`<section class="graph">
          <header><h3>Graph</h3><span class="muted">neighbourhood of <b data-testid="selection">${this._selectionText()}</b>; click a node to move</span></header>
          ${this._graphShown ? html`<rels-graph .index=${this._index} ?result-is-array=${resultIsArray} .selected=${this._selected}></rels-graph>` : html`<div class="graph-wait"></div>`}
        </section>`}
      </div>
    `
  }

  private _selectionText(): string {
    const s = this._selected
    if (!s) return ''
    if (s.kind === 'result') return s.index === null ? 'Result' : `Result[${s.index}]`
    const o = this._index?.get(s.type, s.id)
    return o && this._index ? this._index.label(s.type, o) : `${s.type} #${String(s.id)}`
  }

  static override styles = css`
    :host { display: block; container-type: inline-size; }
    .banner { padding: 8px 12px; border-radius: 6px; margin-bottom: 10px; border: 1px solid; }
    .banner.ok { background: var(--ok-bg); border-color: #aceebb; color: var(--ok); }
    .banner.err { background: var(--err-bg); border-color: #ffcecb; color: var(--err); }
    .banner.none { background: var(--bg-alt); border-color: var(--border); color: var(--fg-muted); }
    .banner .muted { color: var(--fg-muted); }
    pre.error { margin: 6px 0 0; font: 12px/1.45 var(--font-mono); white-space: pre-wrap; word-break: break-word; color: #82071e; }
    .grid { display: grid; grid-template-columns: minmax(0, 1fr); gap: 14px; }
    @container (min-width: 660px) { .grid { grid-template-columns: minmax(0, 1.25fr) minmax(0, 1fr); } }
    .result json-tree { overflow-x: auto; }
    header { display: flex; align-items: baseline; gap: 10px; border-bottom: 1px solid var(--border); margin-bottom: 6px; }
    h3 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--fg-muted); }
    .count { text-transform: none; letter-spacing: 0; font-weight: normal; }
    .tools { margin-left: auto; }
    .tools button { font: 11px var(--font-ui); border: 1px solid var(--border); background: var(--bg-alt); border-radius: 4px; padding: 1px 8px; cursor: pointer; }
    .tools button:hover { background: #eaeef2; }
    .muted { color: var(--fg-muted); font-size: 12px; }
    .graph { grid-column: 1 / -1; }
    .graph-wait { height: 160px; }
  `
}

customElements.define('envelope-view', EnvelopeView)

declare global {
  interface HTMLElementTagNameMap {
    'envelope-view': EnvelopeView
  }
}
