import { LitElement, css, html, type TemplateResult } from 'lit'
import { api, urls, type SessionListItem } from '../api.js'
import { formatDateTime } from '../format.js'
import { reportError } from '../report-error.js'
import { compareHref, formatRoute } from '../route.js'
import './find-box.js'

/**
 * The sessions in the viewer's directory. A session that fails validation is listed with its error
 * (it cannot be opened) rather than breaking the page. Refreshes when the server says the set changed. Above the
 * list, the search over every session (`<find-box>`).
 */
export class SessionList extends LitElement {
  static override properties = {
    _sessions: { state: true },
    _loaded: { state: true },
    _picked: { state: true },
  }

  declare private _sessions: SessionListItem[]
  declare private _loaded: boolean
  /** Sessions ticked for comparison, in the order ticked (at most two: a third replaces the oldest). */
  declare private _picked: string[]
  private _events: EventSource | null = null

  constructor() {
    super()
    this._sessions = []
    this._loaded = false
    this._picked = []
  }

  private _pick(name: string, on: boolean): void {
    const rest = this._picked.filter((n) => n !== name)
    this._picked = on ? [...rest, name].slice(-2) : rest
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
    const [a, b] = this._picked
    return html`<find-box></find-box>
      <p class="compare">
        ${a !== undefined && b !== undefined
          ? html`<a href=${compareHref(a, b)} data-testid="compare-picked">Compare ${a} with ${b}</a>`
          : html`<span class="muted">Tick two sessions to compare them.</span>`}
      </p>
      <table>
      <thead><tr><th></th><th>Session</th><th class="r">Exchanges</th><th class="r">Errors</th><th class="r">Identities</th><th>Created</th><th>Updated</th></tr></thead>
      <tbody>
        ${this._sessions.map((s) =>
          s.invalid !== undefined
            ? html`<tr class="invalid" data-testid="session-row" data-name=${s.name}>
                <td></td>
                <td class="name">${s.name}</td>
                <td colspan="5" class="why" data-testid="session-invalid">Cannot open: ${s.invalid}</td>
              </tr>`
            : html`<tr data-testid="session-row" data-name=${s.name}>
                <td class="pick"><input type="checkbox" data-testid="compare-pick" aria-label="compare ${s.name}" .checked=${this._picked.includes(s.name)} @change=${(e: Event) => this._pick(s.name, (e.target as HTMLInputElement).checked)} /></td>
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
    .empty, .muted { color: var(--fg-muted); }
    .compare { margin: 0 0 8px; font-size: 13px; }
    .pick { width: 1px; }
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
