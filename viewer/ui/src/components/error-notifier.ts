import { LitElement, css, html, type TemplateResult } from 'lit'
import { ERROR_EVENT, type ErrorDetail } from '../report-error.js'

type Shown = ErrorDetail & { id: number; count: number }

/**
 * The one place the UI shows its own failures (a request to the viewer server that failed, a clipboard refusal):
 * components call `reportError`, which fires a window event this element listens to.
 */
export class ErrorNotifier extends LitElement {
  static override properties = { _errors: { state: true } }

  declare private _errors: Shown[]
  private _next = 1
  private readonly _onError = (e: Event) => this._add((e as CustomEvent<ErrorDetail>).detail)

  constructor() {
    super()
    this._errors = []
  }

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener(ERROR_EVENT, this._onError)
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener(ERROR_EVENT, this._onError)
  }

  private _add(d: ErrorDetail): void {
    // The same failure repeated (a server gone away) is counted, not stacked.
    const same = this._errors.find((x) => x.code === d.code && x.message === d.message)
    if (same) this._errors = this._errors.map((x) => (x === same ? { ...x, count: x.count + 1 } : x))
    else this._errors = [...this._errors.slice(-4), { ...d, id: this._next++, count: 1 }]
  }

  private _dismiss(id: number): void {
    this._errors = this._errors.filter((x) => x.id !== id)
  }

  override render(): TemplateResult {
    return html`${this._errors.map(
      (e) => html`<div class="toast" role="alert" data-testid="error-toast">
        <code>${e.code}</code> ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}
        <button aria-label="dismiss" @click=${() => this._dismiss(e.id)}>×</button>
      </div>`,
    )}`
  }

  static override styles = css`
    :host { position: fixed; right: 16px; bottom: 16px; display: flex; flex-direction: column; gap: 8px; z-index: 10; max-width: 520px; }
    .toast { background: #fff; border: 1px solid #ffcecb; border-left: 4px solid var(--err); box-shadow: 0 4px 12px rgba(0,0,0,.12); padding: 8px 30px 8px 10px; border-radius: 6px; position: relative; font-size: 12px; word-break: break-word; }
    code { color: var(--err); font: 600 11px var(--font-mono); }
    button { position: absolute; top: 4px; right: 6px; border: none; background: none; font-size: 16px; cursor: pointer; color: var(--fg-muted); }
  `
}

customElements.define('error-notifier', ErrorNotifier)

declare global {
  interface HTMLElementTagNameMap {
    'error-notifier': ErrorNotifier
  }
}
