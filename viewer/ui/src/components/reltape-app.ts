import { LitElement, css, html, type TemplateResult } from 'lit'
import type { RelsConfig } from '../../../../model/rels.js'
import { api } from '../api.js'
import { loadExchange } from '../exchange-loader.js'
import { reportError } from '../report-error.js'
import { type Route, parseRoute } from '../route.js'
import './session-list.js'
import './session-view.js'
import './error-notifier.js'

/** The viewer: follows the URL hash (sessions list, or a session with an open exchange and tab). */
export class ReltapeApp extends LitElement {
  static override properties = {
    _route: { state: true },
    _config: { state: true },
  }

  declare private _route: Route
  declare private _config: RelsConfig
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
  }

  override connectedCallback(): void {
    super.connectedCallback()
    window.addEventListener('hashchange', this._onHash)
    api.config().then(
      (c) => (this._config = c),
      (err: unknown) => reportError(err, 'loading the viewer config'),
    )
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    window.removeEventListener('hashchange', this._onHash)
  }

  override render(): TemplateResult {
    const r = this._route
    document.title = r.session ? `${r.session}${r.seq !== null ? ` #${r.seq}` : ''} · reltape` : 'reltape viewer'
    return html`
      <header class="app"><a href="#/" class="logo">reltape</a><span class="tag">viewer</span></header>
      <main>
        ${r.session
          ? html`<session-view .name=${r.session} .seq=${r.seq} .tab=${r.tab} .filter=${r.filter} .config=${this._config}></session-view>`
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
    main > session-view { height: 100%; }
  `
}

customElements.define('reltape-app', ReltapeApp)

declare global {
  interface HTMLElementTagNameMap {
    'reltape-app': ReltapeApp
  }
}
