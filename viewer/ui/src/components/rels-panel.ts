import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { RelObject } from '../../../../model/envelope.js'
import type { RelsIndex } from '../../../../model/rels.js'
import { relKey } from '../../../../model/rels.js'
import { type NodeRef, selectEvent, siteNode, sitePath } from '../nodes.js'
import { entityHref } from '../route.js'
import './json-tree.js'

/** Objects of one type rendered at first; more on request. Keeps a 500-object Rels quick to open. */
const FIRST_OBJECTS = 50

/**
 * The Rels of one envelope: each type with its count, each object with who references it.
 * An object opens to its fields (as a tree whose references expand again); "referenced by" links select the referrer.
 *
 * @fires node-select - when an object or a "referenced by" link is clicked (detail: SelectDetail)
 */
export class RelsPanel extends LitElement {
  static override properties = {
    index: { attribute: false },
    resultIsArray: { type: Boolean, attribute: 'result-is-array' },
    selected: { attribute: false },
    reveal: { attribute: false },
    _open: { state: true },
    _closedTypes: { state: true },
    _shown: { state: true },
  }

  declare index: RelsIndex | null
  declare resultIsArray: boolean
  /** The selected item; a selected Rels object is opened and scrolled to. */
  declare selected: NodeRef | null
  /** A path inside the selected Rels object to reveal (a back-reference from another object). */
  declare reveal: { path: (string | number)[] } | null
  declare private _open: Set<string>
  declare private _closedTypes: Set<string>
  /** How many objects of each type are rendered, where more than FIRST_OBJECTS are. */
  declare private _shown: Map<string, number>

  constructor() {
    super()
    this.index = null
    this.resultIsArray = false
    this.selected = null
    this.reveal = null
    this._open = new Set()
    this._closedTypes = new Set()
    this._shown = new Map()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('index')) {
      this._open = new Set()
      this._closedTypes = new Set()
      this._shown = new Map()
    }
    if (changed.has('selected') && this.selected?.kind === 'rels') {
      const k = relKey(this.selected.type, this.selected.id)
      if (!this._open.has(k)) this._open = new Set([...this._open, k])
      // A selected object past the rendered ones (a back-reference, a chip) is brought into the list.
      const objects = this.index?.objects(this.selected.type) ?? []
      const at = objects.findIndex((o) => String(o.Id) === String((this.selected as { id: string | number }).id))
      if (at >= this._limit(this.selected.type)) this._shown = new Map(this._shown).set(this.selected.type, at + 1)
      if (this._closedTypes.has(this.selected.type)) {
        const t = new Set(this._closedTypes)
        t.delete(this.selected.type)
        this._closedTypes = t
      }
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('selected') && this.selected?.kind === 'rels') {
      const el = this.renderRoot.querySelector(`[data-key="${CSS.escape(relKey(this.selected.type, this.selected.id))}"]`)
      el?.scrollIntoView({ block: 'nearest' })
    }
  }

  private _toggle(k: string): void {
    const next = new Set(this._open)
    if (next.has(k)) next.delete(k)
    else next.add(k)
    this._open = next
  }

  private _limit(type: string): number {
    return this._shown.get(type) ?? FIRST_OBJECTS
  }

  private _showMore(type: string): void {
    this._shown = new Map(this._shown).set(type, this._limit(type) + 200)
  }

  private _toggleType(type: string): void {
    const next = new Set(this._closedTypes)
    if (next.has(type)) next.delete(type)
    else next.add(type)
    this._closedTypes = next
  }

  override render(): TemplateResult {
    const index = this.index
    if (!index || index.types.length === 0) return html`<p class="empty">This envelope has no Rels.</p>`
    // Dangling: Rels carries the type but not the Id. The rest point at types this envelope does not carry at all.
    const unresolved = index.dangling()
    const dangling = unresolved.filter((r) => r.expectedType !== null && index.types.includes(r.expectedType))
    const elsewhere = unresolved.length - dangling.length
    const unreferenced = index.unreferenced()
    return html`
      <div class="stats">
        ${index.references.length - unresolved.length} resolved references${dangling.length ? html` · <span class="bad">${dangling.length} dangling</span>` : nothing}${elsewhere
          ? html` · <span title="references to types this envelope's Rels does not carry">${elsewhere} to types not in Rels</span>`
          : nothing}${unreferenced.length ? html` · <span title="Rels objects nothing refers to">${unreferenced.length} unreferenced</span>` : nothing}
      </div>
      ${index.types.map((type) => this._type(index, type))}
      ${unresolved.length
        ? html`<details class="dangling"><summary>${unresolved.length} unresolved ${unresolved.length === 1 ? 'reference' : 'references'}</summary>
            ${unresolved.map((r) => html`<div class="refby"><button class="link" @click=${() => this.dispatchEvent(selectEvent({ node: siteNode(r.site, this.resultIsArray), path: r.site.path }))}>${r.site.where === 'rels' ? `${r.site.type} #${String(r.site.id)} · ` : ''}${sitePath(r.site)}</button> → ${r.expectedType ?? '?'} #${String(r.id)}</div>`)}
          </details>`
        : nothing}
    `
  }

  private _type(index: RelsIndex, type: string): TemplateResult {
    const objects = index.objects(type)
    const closed = this._closedTypes.has(type)
    return html`<section class="type" data-testid="rels-type" data-type=${type}>
      <h4 @click=${() => this._toggleType(type)}><span class="tog">${closed ? '▸' : '▾'}</span>${type} <span class="count">${objects.length}</span></h4>
      ${closed ? nothing : objects.slice(0, this._limit(type)).map((o) => this._object(index, type, o))}
      ${!closed && objects.length > this._limit(type)
        ? html`<button class="link more" data-testid="rels-more" @click=${() => this._showMore(type)}>show ${Math.min(200, objects.length - this._limit(type))} more of ${objects.length - this._limit(type)}</button>`
        : nothing}
    </section>`
  }

  private _object(index: RelsIndex, type: string, object: RelObject): TemplateResult {
    const k = relKey(type, object.Id)
    const open = this._open.has(k)
    const refs = index.backReferences(type, object.Id)
    const sel = this.selected?.kind === 'rels' && relKey(this.selected.type, this.selected.id) === k
    return html`<div class="obj ${sel ? 'selected' : ''}" data-testid="rels-object" data-key=${k}>
      <div class="objhead">
        <button class="tog" @click=${() => this._toggle(k)} aria-expanded=${open}>${open ? '▾' : '▸'}</button>
        <button class="label" @click=${() => this.dispatchEvent(selectEvent({ node: { kind: 'rels', type, id: object.Id } }))}>${index.label(type, object)}</button>
        <a class="timeline" data-testid="timeline-link" href=${entityHref(type, object.Id)} title="this object across the session: its versions and the calls that carried or referred to it">timeline</a>
        <span class="refcount" title="references to this object">${refs.length ? `← ${refs.length}` : 'unreferenced'}</span>
      </div>
      ${refs.length
        ? html`<div class="refby" data-testid="referenced-by">referenced by
            ${refs.slice(0, 20).map(
              (r) => html`<button class="link backref" data-testid="backref" @click=${() => this.dispatchEvent(selectEvent({ node: siteNode(r.site, this.resultIsArray), path: r.site.path }))}>${r.site.where === 'rels' ? `${r.site.type} #${String(r.site.id)}.` : ''}${sitePath(r.site)}</button>`,
            )}${refs.length > 20 ? html` <span class="count">and ${refs.length - 20} more</span>` : nothing}
          </div>`
        : nothing}
      ${open
        ? html`<json-tree class="objtree" .value=${object} .index=${index} .origin=${{ type, id: object.Id }} where="rels" .reveal=${sel ? this.reveal : null}></json-tree>`
        : nothing}
    </div>`
  }

  static override styles = css`
    :host { display: block; font-size: 12px; }
    .empty, .stats { color: var(--fg-muted); margin: 4px 0 8px; }
    .bad { color: var(--err); }
    h4 { margin: 8px 0 2px; font-size: 12px; cursor: pointer; user-select: none; }
    .count { color: var(--fg-muted); font-weight: normal; background: var(--bg-alt); border-radius: 8px; padding: 0 6px; }
    .tog { all: unset; width: 14px; display: inline-block; text-align: center; color: var(--fg-muted); cursor: pointer; font-size: 10px; }
    /* Off-screen objects skip layout and paint until scrolled to: a 500-object Rels opens at the cost of what shows. */
    .obj { padding: 2px 4px 2px 10px; border-radius: 4px; content-visibility: auto; contain-intrinsic-size: auto 40px; }
    .obj.selected { background: #fff8c5; outline: 1px solid #eac54f; }
    .objhead { display: flex; gap: 6px; align-items: baseline; }
    .label { all: unset; cursor: pointer; font-family: var(--font-mono); }
    .label:hover { color: var(--accent); }
    .timeline { color: var(--accent); font-size: 11px; text-decoration: none; }
    .timeline:hover { text-decoration: underline; }
    .refcount { color: var(--fg-muted); font-size: 11px; margin-left: auto; white-space: nowrap; }
    .refby { color: var(--fg-muted); font-size: 11px; padding-left: 20px; }
    .link { all: unset; cursor: pointer; color: var(--accent); font-family: var(--font-mono); margin-right: 8px; }
    .link:hover { text-decoration: underline; }
    .objtree { margin: 2px 0 6px 14px; }
    .more { margin: 2px 0 4px 24px; font-size: 11px; }
    details.dangling { margin-top: 8px; color: var(--err); }
  `
}

customElements.define('rels-panel', RelsPanel)

declare global {
  interface HTMLElementTagNameMap {
    'rels-panel': RelsPanel
  }
}
