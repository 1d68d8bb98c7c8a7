import { LitElement, css, html, nothing, type TemplateResult } from 'lit'
import type { Body, MultipartPart } from '../../../../model/session.js'
import { urls } from '../api.js'
import { formatSize } from '../format.js'
import './json-tree.js'

/** Raster types the viewer previews with `<img>`; SVG is not one (it is a document, not a picture). */
const PREVIEW = /^image\/(png|jpeg|gif|webp)\b/i
/** Text longer than this renders in part until asked: a multi-MB `<pre>` would stall layout. */
const TEXT_CHUNK = 200_000

type ShownBody = Body & { omitted?: boolean }

/**
 * One recorded body: JSON as a lazy tree, text as text, images as a preview of the server's inline raster
 * endpoint, anything else as a download. Nothing recorded is ever parsed as HTML.
 */
export class BodyView extends LitElement {
  static override properties = {
    body: { attribute: false },
    session: { type: String },
    seq: { type: Number },
    side: { type: String },
    _full: { state: true },
  }

  declare body: ShownBody | null
  declare session: string
  declare seq: number
  declare side: 'request' | 'response'
  declare private _full: boolean

  constructor() {
    super()
    this.body = null
    this.session = ''
    this.seq = 0
    this.side = 'response'
    this._full = false
  }

  private _download(label = 'Download'): TemplateResult {
    return html`<a class="dl" data-testid="download" href=${urls.raw(this.session, this.seq, this.side)} download>${label}</a>`
  }

  override render(): TemplateResult {
    const b = this.body
    if (!b || b.kind === 'empty') return html`<p class="muted">No body.</p>`
    const meta = html`<div class="meta"><span>${b.contentType || 'no content type'}</span><span>${formatSize(b.size)}</span>${this._download()}</div>`
    const cut = b.truncated
      ? html`<div class="warn" data-testid="truncated">${b.omitted
          ? `This body is ${formatSize(b.size)}: too large to show whole; the first part is shown as text. Download it to see all of it.`
          : `The recorder kept only part of this ${formatSize(b.size)} body.`}</div>`
      : nothing
    return html`${meta}${cut}${this._content(b)}`
  }

  private _content(b: ShownBody): TemplateResult {
    switch (b.kind) {
      case 'json':
        return html`<json-tree .value=${b.json} .openDepth=${2}></json-tree>`
      case 'text':
        return this._text(b.text)
      case 'bytes':
        if (PREVIEW.test(b.contentType)) {
          return html`<img class="preview" data-testid="image-preview" alt="recorded image, ${formatSize(b.size)}" src=${urls.raw(this.session, this.seq, this.side, true)}>`
        }
        return html`<div class="bin">Binary body. ${hexHead(b.base64)}</div>`
      case 'multipart':
        return html`<div class="parts">${b.parts.map((p) => this._part(p))}</div>`
      default:
        return html``
    }
  }

  private _text(text: string): TemplateResult {
    if (text.length <= TEXT_CHUNK || this._full) return html`<pre class="text" data-testid="body-text">${text}</pre>`
    return html`<pre class="text" data-testid="body-text">${text.slice(0, TEXT_CHUNK)}</pre>
      <button class="more" @click=${() => (this._full = true)}>Show all ${text.length.toLocaleString()} characters</button>`
  }

  private _part(p: MultipartPart): TemplateResult {
    const body = p.body
    let content: TemplateResult
    if (body.kind === 'bytes' && PREVIEW.test(body.contentType) && body.base64.length < 4_000_000) {
      // A part has no endpoint of its own; a data: URL of a raster type is only ever a picture.
      content = html`<img class="preview" alt="part ${p.name}" src=${`data:${body.contentType.split(';')[0]};base64,${body.base64}`}>`
    } else if (body.kind === 'json') content = html`<json-tree .value=${body.json}></json-tree>`
    else if (body.kind === 'text') content = this._text(body.text)
    else if (body.kind === 'bytes') content = html`<div class="bin">${hexHead(body.base64)}</div>`
    else content = html`<span class="muted">empty</span>`
    return html`<div class="part">
      <div class="meta"><b>${p.name}</b>${p.filename !== undefined ? html`<span>file ${p.filename}</span>` : nothing}<span>${p.contentType ?? ''}</span><span>${body.kind === 'empty' ? '' : formatSize(body.size)}</span></div>
      ${content}
    </div>`
  }

  static override styles = css`
    :host { display: block; }
    .meta { display: flex; gap: 12px; color: var(--fg-muted); font-size: 11px; margin-bottom: 6px; align-items: baseline; }
    .dl { color: var(--accent); }
    .warn { background: var(--warn-bg); color: var(--warn); border: 1px solid #eac54f; border-radius: 4px; padding: 4px 8px; margin-bottom: 6px; }
    pre.text { font: 12px/1.45 var(--font-mono); white-space: pre-wrap; word-break: break-all; margin: 0; background: var(--bg-alt); padding: 8px; border-radius: 4px; }
    .preview { max-width: 100%; max-height: 420px; border: 1px solid var(--border); background: repeating-conic-gradient(#f0f0f0 0 25%, #fff 0 50%) 0 0 / 16px 16px; }
    .bin { font: 12px var(--font-mono); color: var(--fg-muted); white-space: pre; overflow-x: auto; }
    .part { border: 1px solid var(--border); border-radius: 4px; padding: 6px 8px; margin-bottom: 8px; }
    .muted { color: var(--fg-muted); }
    .more { margin-top: 4px; font: 11px var(--font-ui); }
  `
}

/** The first bytes as a hex dump, so a binary body can be recognised without downloading it. */
function hexHead(base64: string): string {
  let bytes: string
  try {
    bytes = atob(base64.slice(0, 172).replace(/=+$/, '').slice(0, 168))
  } catch {
    return ''
  }
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.slice(i, i + 16)
    const hex = [...chunk].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ')
    const ascii = [...chunk].map((c) => (c >= ' ' && c <= '~' ? c : '.')).join('')
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(48)}  ${ascii}`)
  }
  return '\n' + lines.join('\n')
}

customElements.define('body-view', BodyView)

declare global {
  interface HTMLElementTagNameMap {
    'body-view': BodyView
  }
}
