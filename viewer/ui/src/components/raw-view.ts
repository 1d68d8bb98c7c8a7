import { LitElement, css, html, type TemplateResult } from 'lit'
import type { Body, HeaderPair, MultipartBody } from '../../../../model/session.js'
import { maskSecrets } from '../../../../model/auth.js'
import { urls } from '../api.js'
import { formatSize } from '../format.js'

/** Bodies above this show their start only in the Raw tab; the rest is a download away. */
const RAW_LIMIT = 500_000

/**
 * One HTTP message as text: start line, header lines, a blank line, the body as recorded
 * (JSON in its exact text when the recorder kept it). Binary bodies are offered as a download.
 */
export class RawView extends LitElement {
  static override properties = {
    startLine: { type: String, attribute: 'start-line' },
    headers: { attribute: false },
    body: { attribute: false },
    secrets: { attribute: false },
    reveal: { type: Boolean },
    session: { type: String },
    seq: { type: Number },
    side: { type: String },
  }

  declare startLine: string
  declare headers: HeaderPair[]
  declare body: Body | null
  declare secrets: string[]
  declare reveal: boolean
  declare session: string
  declare seq: number
  declare side: 'request' | 'response'

  constructor() {
    super()
    this.startLine = ''
    this.headers = []
    this.body = null
    this.secrets = []
    this.reveal = false
    this.session = ''
    this.seq = 0
    this.side = 'request'
  }

  override render(): TemplateResult {
    const mask = (v: string) => (this.reveal ? v : maskSecrets(v, this.secrets))
    const head = [this.startLine, ...this.headers.map(([n, v]) => `${n}: ${mask(v)}`)].join('\n')
    const b = this.body
    let text = ''
    let note = ''
    if (b) {
      if (b.kind === 'json') text = b.raw ?? JSON.stringify(b.json)
      else if (b.kind === 'text') text = b.text
      else if (b.kind === 'bytes') note = `[${formatSize(b.size)} of ${b.contentType || 'binary data'}]`
      else if (b.kind === 'multipart') text = multipartText(b)
    }
    const cut = text.length > RAW_LIMIT
    return html`<pre data-testid="raw-${this.side}">${head}\n\n${mask(cut ? text.slice(0, RAW_LIMIT) : text)}${note}</pre>
      <div class="foot">${cut ? `Showing the first ${RAW_LIMIT.toLocaleString()} characters. ` : ''}<a href=${urls.raw(this.session, this.seq, this.side)} download>Download the ${this.side} body</a></div>`
  }

  static override styles = css`
    :host { display: block; margin-bottom: 16px; }
    pre { font: 12px/1.45 var(--font-mono); white-space: pre-wrap; word-break: break-all; margin: 0; background: var(--bg-alt); padding: 8px; border-radius: 4px; border: 1px solid var(--border); }
    .foot { font-size: 11px; color: var(--fg-muted); margin-top: 4px; }
    a { color: var(--accent); }
  `
}

/** A multipart body as it went on the wire, near enough: the stored parts between boundaries; binary parts by size. */
function multipartText(b: MultipartBody): string {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(b.contentType)
  const sep = `--${boundary?.[1] ?? boundary?.[2] ?? 'boundary'}`
  const parts = b.parts.map((p) => {
    const head = [`Content-Disposition: form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`]
    if (p.contentType) head.push(`Content-Type: ${p.contentType}`)
    const body = p.body
    const content =
      body.kind === 'text' ? body.text : body.kind === 'json' ? (body.raw ?? JSON.stringify(body.json)) : body.kind === 'empty' ? '' : `[${formatSize(body.size)} of ${body.contentType || 'binary data'}]`
    return `${sep}\n${head.join('\n')}\n\n${content}`
  })
  return `${parts.join('\n')}\n${sep}--`
}

customElements.define('raw-view', RawView)

declare global {
  interface HTMLElementTagNameMap {
    'raw-view': RawView
  }
}
