import { LitElement, css, html, type TemplateResult } from 'lit'
import type { RelsConfig } from '../../../../model/rels.js'
import { api } from '../api.js'
import { loadExchange } from '../exchange-loader.js'
import { reportError } from '../report-error.js'
import { type Route, parseRoute } from '../route.js'
import { TOKEN_REFUSED_EVENT, TOKEN_REQUIRED, tokenRefusal } from '../token.js'
import './session-list.js'
import './session-view.js'
import './entity-view.js'
import './compare-view.js'
import './error-notifier.js'

/**
 * The viewer: follows the URL hash (sessions list, or a session with an open exchange and tab). When the server
 * refuses the page's access token, says so (with the server's message: open the link the viewer printed) in place
 * of the page, rather than showing an empty list.
 */
export class ReltapeApp extends LitElement {
  static override properties = {
    _route: { state: true },
    _config: { state: true },
    _locked: { state: true },
  }

  declare private _route: Route
  declare private _config: RelsConfig
  declare private _locked: string | null
  private readonly _onRefused = (e: Event) => (this._locked = (e as CustomEvent<string>).detail)
  private readonly _onHash = () => {
    const route = parseRoute(location.hash)
    // Asked for now, before anything renders: see exchange-loader.ts.
    if (route.session !== null && route.seq !== null) loadExchange(route.session, route.seq).catch(() => {})
    this._route = route
  }

  constructor() {
    super()
    this._route = parseRoute(location.hash)
    this._config = {}
    this._locked = tokenRefusal()
  }

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener('hashchange', this._onHash)
    window.addEventListener(TOKEN_REFUSED_EVENT, this._onRefused)
    api.config().then(
      (c) => (this._config = c),
      (err: unknown) => reportError(err, 'loading the viewer config'),
    )
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener('hashchange', this._onHash)
    window.removeEventListener(TOKEN_REFUSED_EVENT, this._onRefused)
  }

  override render(): TemplateResult {
    const r = this._route
    document.title = r.compare ? `${r.compare.a} ↔ ${r.compare.b} · reltape` : r.session ? `${r.session}${r.seq !== null ? ` #${r.seq}` : ''} · reltape` : 'reltape viewer'
    return html`
      <header class="app"><a href="#/" class="logo">reltape</a><span class="tag">viewer</span></header>
      <main>
        ${this._locked !== null
          ? html`<div class="locked" role="alert" data-testid="token-required">
              <h2>This viewer needs its access token</h2>
              <p data-testid="token-message">${this._locked}</p>
              <p class="code"><code>${TOKEN_REQUIRED}</code></p>
            </div>`
          : r.compare
            ? html`<compare-view .a=${r.compare.a} .b=${r.compare.b}></compare-view>`
          : r.session && r.entities
            ? html`<entity-view .session=${r.session} .type=${r.entities.type} .entityId=${r.entities.id}></entity-view>`
          : r.session
            ? html`<session-view .name=${r.session} .seq=${r.seq} .tab=${r.tab} .filter=${r.filter} .at=${r.at ?? null} .config=${this._config}></session-view>`
            : html`<session-list></session-list>`}
      </main>
      <error-notifier></error-notifier>
    `
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; height: 100%; }
    header.app { display: flex; align-items: baseline; gap: 8px; padding: 6px 12px; background: #24292f; color: #fff; flex: none; }
    .logo { color: #fff; font-weight: 700; text-decoration: none; letter-spacing: .02em; }
    .tag { color: #8c959f; font-size: 12px; }
    main { flex: 1; min-height: 0; overflow: auto; }
    main > session-view, main > entity-view { height: 100%; }
    .locked { max-width: 640px; margin: 48px auto; padding: 16px 20px; border: 1px solid #ffcecb; border-left: 4px solid var(--err); border-radius: 6px; background: var(--err-bg); }
    .locked h2 { margin: 0 0 8px; font-size: 16px; }
    .locked p { margin: 6px 0; font-size: 13px; line-height: 1.5; word-break: break-word; }
    .locked .code code { color: var(--err); font: 600 11px var(--font-mono); }
  `
}

customElements.define('reltape-app', ReltapeApp)

declare global {
  interface HTMLElementTagNameMap {
    'reltape-app': ReltapeApp
  }
}
