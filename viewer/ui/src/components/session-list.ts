import { LitElement, css, html, type TemplateResult } from 'lit'
import { api, urls, type SessionListItem } from '../api.js'
import { formatDateTime } from '../format.js'
import { reportError } from '../report-error.js'
import { formatRoute } from '../route.js'

/**
 * The sessions in the viewer's directory. A session that fails validation is listed with its error
 * (it cannot be opened) rather than breaking the page. Refreshes when the server says the set changed.
 */
export class SessionList extends LitElement {
  static override properties = {
    _sessions: { state: true },
    _loaded: { state: true },
  }

  declare private _sessions: SessionListItem[]
  declare private _loaded: boolean
  private _events: EventSource | null = null

  constructor() {
    super()
    this._sessions = []
    this._loaded = false
  }

  override connectedCallback(): void {
    super.connectedCallback()
    void this._refresh()
    this._events = new EventSource(urls.events())
    // The event carries the new list; fetch only if it cannot be read.
    this._events.addEventListener('sessions', (e) => {
      try {
        this._sessions = sortSessions(JSON.parse((e as MessageEvent<string>).data) as SessionListItem[])
        this._loaded = true
      } catch {
        void this._refresh()
      }
    })
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback()
    this._events?.close()
  }

  private async _refresh(): Promise<void> {
    try {
      const list = await api.sessions()
      this._sessions = sortSessions(list)
    } catch (err) {
      reportError(err, 'listing sessions')
    } finally {
      this._loaded = true
    }
  }

  override render(): TemplateResult {
    if (this._loaded && this._sessions.length === 0) return html`<p class="empty">No sessions yet. Record one with <code>reltape record</code>.</p>`
    return html`<table>
      <thead><tr><th>Session</th><th class="r">Exchanges</th><th class="r">Errors</th><th class="r">Identities</th><th>Created</th><th>Updated</th></tr></thead>
      <tbody>
        ${this._sessions.map((s) =>
          s.invalid !== undefined
            ? html`<tr class="invalid" data-testid="session-row" data-name=${s.name}>
                <td class="name">${s.name}</td>
                <td colspan="5" class="why" data-testid="session-invalid">Cannot open: ${s.invalid}</td>
              </tr>`
            : html`<tr data-testid="session-row" data-name=${s.name}>
                <td class="name"><a href=${formatRoute({ session: s.name })}>${s.name}</a></td>
                <td class="r">${s.exchanges.toLocaleString()}</td>
                <td class="r ${s.errors ? 'errs' : ''}">${s.errors.toLocaleString()}</td>
                <td class="r">${s.identities}</td>
                <td>${s.createdAt ? formatDateTime(s.createdAt) : ''}</td>
                <td>${s.updatedAt ? formatDateTime(s.updatedAt) : ''}</td>
              </tr>`,
        )}
      </tbody>
    </table>`
  }

  static override styles = css`
    :host { display: block; padding: 16px 20px; }
    table { border-collapse: collapse; width: 100%; max-width: 1100px; font-size: 13px; }
    th { text-align: left; font-size: 11px; color: var(--fg-muted); font-weight: 600; border-bottom: 1px solid var(--border); padding: 4px 10px; }
    td { padding: 5px 10px; border-bottom: 1px solid #f0f2f4; }
    .r { text-align: right; font-variant-numeric: tabular-nums; }
    .name { font-family: var(--font-mono); }
    a { color: var(--accent); text-decoration: none; }
    a:hover { text-decoration: underline; }
    .errs { color: var(--err); font-weight: 600; }
    tr.invalid { background: var(--err-bg); }
    .why { color: var(--err); font-family: var(--font-mono); font-size: 12px; word-break: break-word; }
    .empty { color: var(--fg-muted); }
  `
}

/** Most recently changed first: the session being recorded is usually the one wanted. */
function sortSessions(list: SessionListItem[]): SessionListItem[] {
  return [...list].sort((a, b) => (b.updatedAt ?? '').localeCompare(a.updatedAt ?? '') || a.name.localeCompare(b.name))
}

customElements.define('session-list', SessionList)

declare global {
  interface HTMLElementTagNameMap {
    'session-list': SessionList
  }
}
