/**
 * Two small parts of the session view's header, kept apart from it: the "Export HAR" download (tokens written as
 * `<identity-N>`; the live tokens only after a confirmation) and the notice of what `reltape import` warned about
 * when the session came from a HAR.
 */
import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import { withToken } from '../token.js'

/** The export route (viewer/routes-export.ts). A download the browser makes by itself: the token goes in the query. */
export function exportHarUrl(name: string, reveal: boolean): string {
  return withToken(`api/sessions/${encodeURIComponent(name)}/export.har${reveal ? '?reveal=1' : ''}`)
}

const REVEAL_QUESTION =
  'Export this session as HAR with the live tokens it recorded (cookies, Authorization)?\n\n' +
  'Anyone who gets the file can act as those users until the tokens expire. Without them, tokens are written as <identity-N>.'

export class SessionHarExport extends LitElement {
  static override properties = { name: { type: String } }
  declare name: string

  constructor() {
    super()
    this.name = ''
  }

  private _download(reveal: boolean): void {
    if (reveal && !window.confirm(REVEAL_QUESTION)) return
    const a = document.createElement('a')
    a.href = exportHarUrl(this.name, reveal)
    a.download = ''
    a.rel = 'noopener'
    this.renderRoot.appendChild(a)
    a.click()
    a.remove()
  }

  override render(): TemplateResult {
    return html`<button data-testid="export-har" title="Download this session as HAR 1.2, tokens written as <identity-N>" @click=${() => this._download(false)}>Export HAR</button><button
        class="reveal"
        data-testid="export-har-reveal"
        title="Download it with the live tokens (asks first)"
        @click=${() => this._download(true)}
      >with tokens…</button>`
  }

  static override styles = css`
    :host { display: inline-flex; gap: 4px; }
    button { font: inherit; font-size: 12px; padding: 1px 8px; border: 1px solid var(--border); border-radius: 6px; background: var(--bg-alt); cursor: pointer; }
    button:hover { border-color: var(--accent); }
    button.reveal { color: var(--fg-muted); background: none; }
  `
}

export class ImportWarnings extends LitElement {
  static override properties = { warnings: { attribute: false } }
  declare warnings: string[]

  constructor() {
    super()
    this.warnings = []
  }

  override render(): TemplateResult | typeof nothing {
    const w = this.warnings
    if (!w.length) return nothing
    return html`<details data-testid="import-warnings">
      <summary>Imported from a HAR with ${w.length} ${w.length === 1 ? 'warning' : 'warnings'}: some of it was not there or not readable</summary>
      <ul>
        ${w.map((m) => html`<li>${m}</li>`)}
      </ul>
    </details>`
  }

  static override styles = css`
    :host { display: block; }
    details { color: var(--warn); background: var(--warn-bg); padding: 4px 12px; font-size: 12px; border-bottom: 1px solid var(--border); }
    summary { cursor: pointer; }
    ul { margin: 4px 0; padding-left: 20px; max-height: 30vh; overflow: auto; font-family: var(--font-mono); font-size: 11px; }
  `
}

customElements.define('session-har-export', SessionHarExport)
customElements.define('import-warnings', ImportWarnings)

declare global {
  interface HTMLElementTagNameMap {
    'session-har-export': SessionHarExport
    'import-warnings': ImportWarnings
  }
}
