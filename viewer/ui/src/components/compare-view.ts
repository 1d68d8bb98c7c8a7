import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import { api, type CompareChange, type CompareResult } from '../api.js'
import { valueLine } from '../format.js'
import { reportError } from '../report-error.js'
import { exchangeHref } from '../route.js'

/** `SESSION#SEQ` names one exchange; anything else a whole session (as the API and `reltape diff` read it). */
export function splitRef(ref: string): { session: string; seq: number | null } {
  const m = /^(.*)#(\d+)$/.exec(ref)
  return m ? { session: m[1]!, seq: Number(m[2]) } : { session: ref, seq: null }
}

/** A value as one line of text (rendered through Lit's escaping, never as markup). */
const show = (v: unknown) => valueLine(v, '(none)')

/**
 * Two sessions (or two exchanges) compared call by call, as `reltape diff` does: each call that differs with its
 * changed paths (old → new), calls only in A or only in B marked, and each call linked to its exchange on each side.
 */
export class CompareView extends LitElement {
  static override properties = {
    a: { type: String },
    b: { type: String },
    _diff: { state: true },
    _failed: { state: true },
  }

  declare a: string
  declare b: string
  declare private _diff: CompareResult | null
  declare private _failed: string | null
  private _abort: AbortController | null = null

  constructor() {
    super()
    this.a = ''
    this.b = ''
    this._diff = null
    this._failed = null
  }

  override willUpdate(changed: Map<string, unknown>): void {
    if (changed.has('a') || changed.has('b')) void this._load()
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._abort?.abort()
  }

  private async _load(): Promise<void> {
    this._abort?.abort()
    const abort = (this._abort = new AbortController())
    const { a, b } = this
    this._diff = null
    this._failed = null
    try {
      const diff = await api.compare(a, b, abort.signal)
      if (this.a === a && this.b === b) this._diff = diff
    } catch (err) {
      if ((err as Error).name === 'AbortError' || this.a !== a || this.b !== b) return
      this._failed = (err as Error).message
      reportError(err, `comparing ${a} with ${b}`)
    }
  }

  private _side(ref: string, seq: number | null, side: 'A' | 'B'): TemplateResult {
    if (seq === null) return html`<span class="only" data-testid="missing-${side.toLowerCase()}">not in ${side}</span>`
    return html`<a href=${exchangeHref(splitRef(ref).session, seq)} data-testid="link-${side.toLowerCase()}">${side} #${seq}</a>`
  }

  private _change(c: CompareChange): TemplateResult {
    return html`<li class="change ${c.kind}" data-testid="change" data-path=${c.path}>
      <span class="path">${c.path}</span>
      ${c.kind === 'added'
        ? html`<span class="kind">added</span> <span class="new">${show(c.b)}</span>`
        : c.kind === 'removed'
          ? html`<span class="kind">removed</span> <span class="old">${show(c.a)}</span>`
          : html`<span class="old">${show(c.a)}</span> <span class="arrow">→</span> <span class="new">${show(c.b)}</span>`}
    </li>`
  }

  override render(): TemplateResult {
    const d = this._diff
    return html`<h2>
        Compare <span class="ref" data-testid="ref-a">${this.a}</span> <span class="muted">with</span> <span class="ref" data-testid="ref-b">${this.b}</span>
      </h2>
      ${this._failed !== null
        ? html`<p class="fail" data-testid="compare-failed">${this._failed}</p>`
        : !d
          ? html`<p class="muted">Comparing…</p>`
          : html`<p class="summary" data-testid="compare-summary">
                ${d.equal ? 'No differences' : `${d.calls.length} call(s) differ`}; ${d.unchanged} call(s) unchanged
              </p>
              <ol class="calls">
                ${d.calls.map(
                  (call) => html`<li class="call ${call.a === null ? 'only-b' : call.b === null ? 'only-a' : ''}" data-testid="compare-call">
                    <div class="head">
                      <span class="key">${call.key}</span>
                      ${this._side(this.a, call.a, 'A')} ${this._side(this.b, call.b, 'B')}
                      ${call.a === null ? html`<span class="tag" data-testid="only-in">only in B</span>` : call.b === null ? html`<span class="tag" data-testid="only-in">only in A</span>` : nothing}
                    </div>
                    ${call.changes.length ? html`<ul class="changes">${call.changes.map((c) => this._change(c))}</ul>` : nothing}
                  </li>`,
                )}
              </ol>`}`
  }

  static override styles = css`
    :host { display: block; padding: 16px 20px; font-size: 13px; }
    h2 { font-size: 15px; margin: 0 0 8px; font-weight: 600; }
    .ref { font-family: var(--font-mono); }
    .muted { color: var(--fg-muted); font-weight: normal; }
    .fail { color: var(--err); }
    .summary { margin: 0 0 12px; }
    ol.calls { list-style: none; padding: 0; margin: 0; max-width: 1100px; }
    li.call { border: 1px solid var(--border); border-radius: 6px; padding: 6px 10px; margin-bottom: 8px; }
    li.call.only-a { border-left: 4px solid var(--err); }
    li.call.only-b { border-left: 4px solid var(--accent); }
    .head { display: flex; gap: 10px; align-items: baseline; }
    .key { font-family: var(--font-mono); font-weight: 600; }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    .only { color: var(--fg-muted); font-style: italic; }
    .tag { font-size: 11px; padding: 0 6px; border-radius: 8px; background: var(--err-bg); color: var(--err); }
    ul.changes { list-style: none; padding: 4px 0 0; margin: 0; font-family: var(--font-mono); font-size: 12px; }
    li.change { padding: 2px 0; word-break: break-word; }
    .path { font-weight: 600; margin-right: 8px; }
    .old { color: var(--err); }
    .new { color: #1a7f37; }
    .arrow, .kind { color: var(--fg-muted); }
  `
}

customElements.define('compare-view', CompareView)

declare global {
  interface HTMLElementTagNameMap {
    'compare-view': CompareView
  }
}
