import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import type { HeaderPair } from '../../../../model/session.js'
import { maskSecrets } from '../../../../model/auth.js'

/** Header pairs in wire order and case; the session token is masked unless `reveal` is set. */
export class HeadersView extends LitElement {
  static override properties = {
    headers: { attribute: false },
    secrets: { attribute: false },
    reveal: { type: Boolean },
    heading: { type: String },
  }

  declare headers: HeaderPair[]
  /** Values to mask (the request's token). */
  declare secrets: string[]
  declare reveal: boolean
  declare heading: string

  constructor() {
    super()
    this.headers = []
    this.secrets = []
    this.reveal = false
    this.heading = ''
  }

  override render(): TemplateResult {
    return html`${this.heading ? html`<h3>${this.heading} <span class="count">${this.headers.length}</span></h3>` : nothing}
      <table>
        ${this.headers.map(
          ([n, v]) => html`<tr><th>${n}</th><td>${this.reveal ? v : maskSecrets(v, this.secrets)}</td></tr>`,
        )}
      </table>`
  }

  static override styles = css`
    :host { display: block; margin-bottom: 14px; }
    h3 { margin: 0 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--fg-muted); }
    .count { font-weight: normal; }
    table { border-collapse: collapse; width: 100%; font: 12px/1.45 var(--font-mono); }
    th { text-align: left; vertical-align: top; padding: 2px 12px 2px 0; white-space: nowrap; color: #8250df; font-weight: normal; width: 1%; }
    td { padding: 2px 0; word-break: break-all; }
    tr + tr { border-top: 1px solid #f0f2f4; }
  `
}

customElements.define('headers-view', HeadersView)

declare global {
  interface HTMLElementTagNameMap {
    'headers-view': HeadersView
  }
}
