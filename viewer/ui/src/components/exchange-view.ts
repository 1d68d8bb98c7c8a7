import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { Exchange } from '../../../../model/session.js'
import type { RelsConfig } from '../../../../model/rels.js'
import { findToken, maskToken } from '../../../../model/auth.js'
import { api, type SessionIdentity } from '../api.js'
import { toCurl } from '../curl.js'
import { cachedExchange, loadExchange } from '../exchange-loader.js'
import { formatDateTime, formatDuration, formatSize } from '../format.js'
import { reportError } from '../report-error.js'
import { TABS, type Tab, compareHref, formatRoute, navigate, parseRoute } from '../route.js'
import './envelope-view.js'
import './body-view.js'
import './headers-view.js'
import './raw-view.js'

const TAB_LABELS: Record<Tab, string> = { envelope: 'Envelope', request: 'Request', response: 'Response', headers: 'Headers', raw: 'Raw' }

/**
 * One exchange, loaded on demand, in tabs: Envelope, Request, Response, Headers, Raw.
 * The session token stays masked (here and in "copy as cURL") until the user reveals it.
 */
export class ExchangeView extends LitElement {
  static override properties = {
    session: { type: String },
    seq: { type: Number },
    tab: { type: String },
    at: { attribute: false },
    config: { attribute: false },
    identities: { attribute: false },
    _exchange: { state: true },
    _failed: { state: true },
    _reveal: { state: true },
    _curl: { state: true },
    _copied: { state: true },
    _others: { state: true },
  }

  declare session: string
  declare seq: number
  declare tab: Tab
  /** A JSON path in the answer to show selected. */
  declare at: string | null
  declare config: RelsConfig
  /** The session's identities, for their labels (`identity-1 (customer)`). */
  declare identities: SessionIdentity[]
  declare private _exchange: Exchange | null
  declare private _failed: string | null
  declare private _reveal: boolean
  declare private _curl: boolean
  declare private _copied: string | null
  /** "Compare with…": the other sessions to pick from (null while closed). */
  declare private _others: string[] | null

  constructor() {
    super()
    this.session = ''
    this.seq = 0
    this.tab = 'envelope'
    this.config = {}
    this.identities = []
    this._exchange = null
    this._failed = null
    this._reveal = false
    this._curl = false
    this._copied = null
    this._others = null
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('session') || changed.has('seq')) {
      this._reveal = false
      this._curl = false
      void this._load()
    }
  }

  private async _load(): Promise<void> {
    const { session, seq } = this
    this._failed = null
    this._exchange = cachedExchange(session, seq) ?? null
    if (this._exchange) return
    try {
      const x = await loadExchange(session, seq)
      if (this.session === session && this.seq === seq) this._exchange = x
    } catch (err) {
      // Cancelled because another exchange was asked for, or no longer the one shown: not a failure to report.
      if ((err as Error).name === 'AbortError' || this.session !== session || this.seq !== seq) return
      this._failed = (err as Error).message
      reportError(err, `exchange #${seq} of ${session}`)
    }
  }

  /** Opens "compare with…": lists the sessions (this one too: another exchange of it can be compared). */
  private async _openCompare(): Promise<void> {
    if (this._others) {
      this._others = null
      return
    }
    try {
      const list = await api.sessions()
      this._others = list.filter((s) => s.invalid === undefined).map((s) => s.name).sort((a, b) => (a === this.session ? 1 : b === this.session ? -1 : a.localeCompare(b)))
    } catch (err) {
      reportError(err, 'listing sessions to compare with')
    }
  }

  private _compareWith(form: HTMLFormElement): void {
    const data = new FormData(form)
    const other = String(data.get('session') ?? '')
    const seq = Number(data.get('seq') ?? this.seq)
    if (!other || !Number.isSafeInteger(seq) || seq < 1) return
    location.hash = compareHref(`${this.session}#${this.seq}`, `${other}#${seq}`)
  }

  private _comparePicker(): TemplateResult | typeof nothing {
    if (!this._others) return nothing
    return html`<form class="compare" data-testid="compare-form" @submit=${(e: Event) => (e.preventDefault(), this._compareWith(e.target as HTMLFormElement))}>
      <label>Compare #${this.seq} with
        <select name="session" data-testid="compare-session">${this._others.map((n) => html`<option value=${n}>${n}</option>`)}</select></label>
      <label>exchange # <input name="seq" type="number" min="1" .value=${String(this.seq)} data-testid="compare-seq" /></label>
      <button type="submit" data-testid="compare-go">Compare</button>
    </form>`
  }

  private async _copy(text: string, what: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(text)
      this._copied = what
      setTimeout(() => (this._copied = null), 1500)
    } catch (err) {
      // Clipboard access can be refused; the text is on screen to copy by hand.
      this._curl = true
      reportError(err, 'copy to clipboard')
    }
  }

  override render(): TemplateResult {
    const x = this._exchange
    if (this._failed) return html`<div class="fail" data-testid="exchange-failed">Could not load exchange #${this.seq}: ${this._failed}</div>`
    if (!x) return html`<div class="loading">Loading #${this.seq}…</div>`
    const found = findToken(x.request.headers)
    const secrets = found ? [found.token] : []
    const link = new URL(formatRoute({ ...parseRoute(location.hash), session: this.session, seq: this.seq, tab: this.tab }), location.href).href
    const env = x.response?.body.kind === 'json' ? (x.response.body.json as Record<string, unknown> | null) : null
    const okState = x.error ? 'err' : env && typeof env === 'object' && typeof env.OK === 'boolean' ? (env.OK ? 'ok' : 'err') : 'none'
    return html`
      <header class="top">
        <div class="line1">
          <span class="badge ${okState}">${x.error ? x.error.code : okState === 'ok' ? 'OK' : okState === 'err' ? 'Error' : x.response ? x.response.status : '—'}</span>
          <span class="method">${x.request.method}</span>
          <span class="url" title=${x.request.url}>${x.request.url}</span>
        </div>
        <div class="line2">
          <span>#${x.seq}</span>
          <span>${x.response ? `${x.response.status} ${x.response.statusText}` : 'no response'}</span>
          <span title="started">${formatDateTime(x.startedAt)}</span>
          <span>${formatDuration(x.durationMs)}</span>
          <span>${x.response && x.response.body.kind !== 'empty' ? formatSize(x.response.body.size) : ''}</span>
          <span class="ident" data-testid="identity">${x.request.auth ? `${this._identityName(x.request.auth.identity)} via ${x.request.auth.via}` : 'no identity'}</span>
          <span class="actions">
            <button @click=${() => void this._copy(link, 'link')} title="copy a link to this view">${this._copied === 'link' ? 'Copied' : 'Copy link'}</button>
            <button data-testid="copy-curl" @click=${() => void this._copy(toCurl(x, this._reveal), 'curl')}>${this._copied === 'curl' ? 'Copied' : 'Copy as cURL'}</button>
            <button data-testid="compare-with" @click=${() => void this._openCompare()}>Compare with…</button>
          </span>
        </div>
        ${this._comparePicker()}
      </header>
      <nav class="tabs" role="tablist">
        ${TABS.map((t) => html`<button role="tab" data-tab=${t} aria-selected=${t === this.tab} class=${t === this.tab ? 'on' : ''} @click=${() => navigate({ tab: t })}>${TAB_LABELS[t]}</button>`)}
      </nav>
      <div class="body" role="tabpanel">${this._tab(x, secrets, found?.token ?? null)}</div>
    `
  }

  private _identityName(alias: string): string {
    const label = this.identities.find((i) => i.alias === alias)?.label
    return label ? `${alias} (${label})` : alias
  }

  private _authLine(x: Exchange, token: string | null): TemplateResult {
    return html`<div class="auth" data-testid="auth">
      <b>${x.request.auth ? this._identityName(x.request.auth.identity) : 'no identity'}</b>
      ${x.request.auth ? html`<span class="muted">token in ${x.request.auth.via === 'cookie' ? 'Cookie client-session' : 'Authorization: Client'}</span>` : nothing}
      ${token
        ? html`<code data-testid="token">${this._reveal ? token : maskToken(token)}</code>
            <button data-testid="reveal" @click=${() => (this._reveal = !this._reveal)}>${this._reveal ? 'Hide token' : 'Reveal token'}</button>`
        : x.request.auth ? html`<span class="muted">(token redacted)</span>` : nothing}
      <button @click=${() => (this._curl = !this._curl)}>${this._curl ? 'Hide cURL' : 'Show cURL'}</button>
    </div>
    ${this._curl ? html`<pre class="curl" data-testid="curl">${toCurl(x, this._reveal)}</pre>` : nothing}`
  }

  private _tab(x: Exchange, secrets: string[], token: string | null): TemplateResult {
    switch (this.tab) {
      case 'envelope':
        return html`<envelope-view .exchange=${x} .config=${this.config} .at=${this.at} session=${this.session}></envelope-view>`
      case 'request':
        return html`${this._authLine(x, token)}
          <h3>Body</h3>
          <body-view .body=${x.request.body} session=${this.session} .seq=${x.seq} side="request"></body-view>`
      case 'response':
        if (!x.response) return html`<p class="muted">No response${x.error ? `: ${x.error.code} ${x.error.message}` : ''}.</p>`
        return html`<body-view .body=${x.response.body} session=${this.session} .seq=${x.seq} side="response"></body-view>`
      case 'headers':
        return html`${this._authLine(x, token)}
          <headers-view heading="Request headers" .headers=${x.request.headers} .secrets=${secrets} ?reveal=${this._reveal}></headers-view>
          ${x.response
            ? html`<headers-view heading="Response headers" .headers=${x.response.headers} .secrets=${secrets} ?reveal=${this._reveal}></headers-view>
                ${x.response.contentEncoding ? html`<p class="muted">Body was sent with Content-Encoding ${x.response.contentEncoding}; shown decoded.</p>` : nothing}`
            : nothing}`
      case 'raw': {
        const u = new URL(x.request.url)
        return html`${this._authLine(x, token)}
          <raw-view start-line=${`${x.request.method} ${u.pathname}${u.search} HTTP/${x.request.httpVersion}`} .headers=${x.request.headers} .body=${x.request.body} .secrets=${secrets} ?reveal=${this._reveal} session=${this.session} .seq=${x.seq} side="request"></raw-view>
          ${x.response
            ? html`<raw-view start-line=${`HTTP/${x.request.httpVersion} ${x.response.status} ${x.response.statusText}`} .headers=${x.response.headers} .body=${x.response.body} .secrets=${secrets} ?reveal=${this._reveal} session=${this.session} .seq=${x.seq} side="response"></raw-view>`
            : nothing}`
      }
    }
  }

  static override styles = css`
    :host { display: flex; flex-direction: column; min-height: 0; }
    .top { padding: 8px 14px 6px; border-bottom: 1px solid var(--border); }
    .line1 { display: flex; gap: 8px; align-items: baseline; min-width: 0; }
    .line2 { display: flex; gap: 14px; color: var(--fg-muted); font-size: 12px; margin-top: 3px; align-items: baseline; flex-wrap: wrap; }
    .method { font-weight: 600; font-family: var(--font-mono); }
    .url { font-family: var(--font-mono); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    .badge { font: 600 11px var(--font-ui); padding: 1px 7px; border-radius: 10px; white-space: nowrap; }
    .badge.ok { background: var(--ok-bg); color: var(--ok); }
    .badge.err { background: var(--err-bg); color: var(--err); }
    .badge.none { background: var(--bg-alt); color: var(--fg-muted); }
    .actions { margin-left: auto; display: flex; gap: 6px; }
    button { font: 12px var(--font-ui); border: 1px solid var(--border); background: var(--bg); border-radius: 4px; padding: 2px 8px; cursor: pointer; color: var(--fg); }
    button:hover { background: var(--bg-alt); }
    .tabs { display: flex; gap: 0; border-bottom: 1px solid var(--border); padding: 0 10px; background: var(--bg-alt); }
    .tabs button { border: none; border-bottom: 2px solid transparent; border-radius: 0; background: none; padding: 6px 12px; color: var(--fg-muted); }
    .tabs button.on { border-bottom-color: #fd8c73; color: var(--fg); font-weight: 600; }
    .body { padding: 12px 14px; overflow: auto; flex: 1; min-height: 0; }
    h3 { margin: 12px 0 4px; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--fg-muted); }
    .auth { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; margin-bottom: 8px; }
    code { font: 12px var(--font-mono); background: var(--bg-alt); padding: 1px 6px; border-radius: 4px; word-break: break-all; }
    .curl { font: 12px/1.45 var(--font-mono); background: #24292f; color: #f6f8fa; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap; word-break: break-all; }
    .muted { color: var(--fg-muted); }
    .loading, .fail { padding: 20px; color: var(--fg-muted); }
    .fail { color: var(--err); }
  `
}

customElements.define('exchange-view', ExchangeView)

declare global {
  interface HTMLElementTagNameMap {
    'exchange-view': ExchangeView
  }
}
