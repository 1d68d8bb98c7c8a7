import { LitElement, css, html, nothing, type PropertyValues, type TemplateResult } from 'lit'
import type { RelsIndex } from '../../../../model/rels.js'
import { relKey } from '../../../../model/rels.js'
import { selectEvent } from '../nodes.js'
import { entityHref } from '../route.js'

type Path = (string | number)[]
/** Marks a step through a reference in a node path; it cannot clash with a JSON key. */
const REF = '\u0000ref'
/** Children shown per array/object before a "show more" button: a huge body must not render at once. */
const CHUNK = 100
/** Strings longer than this are cut until the user asks for all of it. */
const LONG_STRING = 2000
/** Nodes open by depth only when their parent has at most this many children. */
const AUTO_OPEN_SIBLINGS = 30

type Mode = 'default' | 'all' | 'none'

/**
 * A lazy JSON tree. Children render only when their node is open; big arrays and objects render in chunks.
 * With `index` set, each `…Id` value that resolves into Rels gets a chip that expands the referenced object
 * in place (and again inside it); a reference back to an object already open above is marked instead of
 * followed, and an Id that Rels does not carry is marked as dangling.
 *
 * Everything recorded is rendered through Lit's text bindings: a value is never HTML.
 *
 * @fires node-select - when a key of a Result item or a referenced object is clicked (detail: SelectDetail)
 */
export class JsonTree extends LitElement {
  static override properties = {
    value: { attribute: false },
    index: { attribute: false },
    origin: { attribute: false },
    where: { type: String },
    openDepth: { type: Number, attribute: 'open-depth' },
    reveal: { attribute: false },
    _mode: { state: true },
    _toggled: { state: true },
    _shown: { state: true },
  }

  /** The JSON value to show. */
  declare value: unknown
  /** Resolves `…Id` fields; null shows plain JSON. */
  declare index: RelsIndex | null
  /** The Rels object this tree shows (`Clients#11`), so a reference back to it is marked as a cycle. */
  declare origin: { type: string; id: string | number } | null
  /** 'result' when this tree shows Result: its clicks select Result items. */
  declare where: 'result' | 'rels' | 'other'
  /** Levels open at first. */
  declare openDepth: number
  /** A path to open, scroll to and flash (a back-reference being followed). */
  declare reveal: { path: Path } | null
  declare private _mode: Mode
  declare private _toggled: Map<string, boolean>
  declare private _shown: Map<string, number>

  constructor() {
    super()
    this.value = null
    this.index = null
    this.origin = null
    this.where = 'other'
    this.openDepth = 1
    this.reveal = null
    this._mode = 'default'
    this._toggled = new Map()
    this._shown = new Map()
  }

  /** Opens every object and array (references stay as chips: following them all could be huge). */
  expandAll(): void {
    this._mode = 'all'
    this._toggled = new Map()
  }

  collapseAll(): void {
    this._mode = 'none'
    this._toggled = new Map()
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('value')) {
      this._mode = 'default'
      this._toggled = new Map()
      this._shown = new Map()
    }
    if (changed.has('reveal') && this.reveal) {
      const toggled = new Map(this._toggled)
      const path = this.reveal.path
      for (let i = 0; i < path.length; i++) toggled.set(key(path.slice(0, i)), true)
      // Show enough of each array to include the revealed index.
      const shown = new Map(this._shown)
      for (let i = 0; i < path.length; i++) {
        const step = path[i]
        if (typeof step === 'number' && step >= CHUNK) shown.set(key(path.slice(0, i)), step + 1)
      }
      this._toggled = toggled
      this._shown = shown
    }
  }

  protected override updated(changed: PropertyValues<this>): void {
    if (changed.has('reveal') && this.reveal) {
      const row = this.renderRoot.querySelector<HTMLElement>(`[data-path="${CSS.escape(key(this.reveal.path))}"]`)
      if (row) {
        row.scrollIntoView({ block: 'center' })
        row.classList.remove('flash')
        void row.offsetWidth // restart the animation
        row.classList.add('flash')
      }
    }
  }

  /** `siblings`: how many children the parent has; the items of a long array start closed, so it opens cheaply. */
  private _isOpen(path: Path, depth: number, siblings = 1): boolean {
    const t = this._toggled.get(key(path))
    if (t !== undefined) return t
    if (path[path.length - 1] === REF) return false
    if (this._mode === 'all') return true
    if (this._mode === 'none') return false
    return depth < this.openDepth && siblings <= AUTO_OPEN_SIBLINGS
  }

  private _toggle(path: Path, depth: number, siblings = 1): void {
    const next = new Map(this._toggled)
    next.set(key(path), !this._isOpen(path, depth, siblings))
    this._toggled = next
  }

  private _more(path: Path, total: number): void {
    const next = new Map(this._shown)
    next.set(key(path), Math.min(total, (this._shown.get(key(path)) ?? CHUNK) + CHUNK * 10))
    this._shown = next
  }

  private _select(path: Path): void {
    if (this.where === 'rels' && this.origin) {
      this.dispatchEvent(selectEvent({ node: { kind: 'rels', type: this.origin.type, id: this.origin.id }, path }))
    } else if (this.where === 'result') {
      const first = path[0]
      const index = Array.isArray(this.value) && typeof first === 'number' ? first : null
      this.dispatchEvent(selectEvent({ node: { kind: 'result', index }, path }))
    }
  }

  override render(): TemplateResult {
    const ancestors = this.origin ? [relKey(this.origin.type, this.origin.id)] : []
    return html`<div class="tree" role="tree">${this._node(null, this.value, [], 0, ancestors, null)}</div>`
  }

  /** One row: `key: value`, and below it, when open, the children. */
  private _node(name: string | number | null, value: unknown, path: Path, depth: number, ancestors: string[], refField: string | null, siblings = 1): TemplateResult {
    const keyPart =
      name === null
        ? nothing
        : html`<span class="key ${typeof name === 'number' ? 'index' : ''}" @click=${() => this._select(path)}>${typeof name === 'number' ? name : name}</span><span class="colon">:</span> `
    if (value !== null && typeof value === 'object') {
      const open = this._isOpen(path, depth, siblings)
      const isArray = Array.isArray(value)
      const count = isArray ? value.length : Object.keys(value).length
      const summary = isArray ? html`<span class="brace">[</span><span class="count">${count} ${count === 1 ? 'item' : 'items'}</span><span class="brace">]</span>` : html`<span class="brace">{</span><span class="count">${count} ${count === 1 ? 'key' : 'keys'}</span><span class="brace">}</span>`
      // An array of ids under a reference field (`ClientIds`) resolves item by item.
      const childRefField = isArray && name !== null && typeof name === 'string' && this.index?.targetType(name) ? name : null
      return html`<div class="node" role="treeitem" aria-expanded=${open}>
        <div class="row" data-path=${key(path)}>
          <button class="tog" tabindex="-1" aria-label=${open ? 'collapse' : 'expand'} @click=${() => this._toggle(path, depth, siblings)}>${count === 0 ? '' : open ? '▾' : '▸'}</button>${keyPart}${summary}
        </div>
        ${open && count > 0 ? this._children(value as object, path, depth, ancestors, childRefField) : nothing}
      </div>`
    }
    return html`<div class="row leaf" role="treeitem" data-path=${key(path)}><span class="tog"></span>${keyPart}${scalar(value, path, this)}${this._refChip(typeof name === 'string' ? name : refField, value, path, depth, ancestors)}</div>${this._refBody(typeof name === 'string' ? name : refField, value, path, depth, ancestors)}`
  }

  private _children(value: object, path: Path, depth: number, ancestors: string[], refField: string | null): TemplateResult {
    const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value)
    const limit = this._shown.get(key(path)) ?? CHUNK
    const shown = entries.length > limit ? entries.slice(0, limit) : entries
    return html`<div class="children">
      ${shown.map(([k, v]) => this._node(k, v, [...path, k], depth + 1, ancestors, typeof k === 'number' ? refField : null, entries.length))}
      ${entries.length > limit
        ? html`<button class="more" @click=${() => this._more(path, entries.length)}>show ${Math.min(CHUNK * 10, entries.length - limit)} more of ${entries.length - limit} remaining</button>`
        : nothing}
    </div>`
  }

  private _refChip(field: string | null, value: unknown, path: Path, depth: number, ancestors: string[]): TemplateResult | typeof nothing {
    if (!this.index || field === null || value === null) return nothing
    const r = this.index.resolve(field, value)
    if (r === undefined) return nothing
    if (r === null) {
      const type = this.index.targetType(field) ?? '?'
      // A type Rels carries but without this Id is a broken reference; a type it never carries is only unresolved.
      const known = this.index.types.includes(type)
      return known
        ? html`<span class="ref dangling" data-testid="ref-dangling" title="Rels.${type} has no object with Id ${String(value)}">⚠ dangling: no ${type} #${String(value)}</span>`
        : html`<span class="ref absent" data-testid="ref-dangling" title="This envelope's Rels has no ${type}">not in Rels</span>`
    }
    const k = relKey(r.type, r.id)
    if (ancestors.includes(k)) {
      return html`<span class="ref cycle" data-testid="ref-cycle" title=${`${this.index.label(r.type, r.object)} is already open above: a cycle, not followed`}>↻ shown above · ${r.type} #${String(r.id)}</span>`
    }
    const refPath = [...path, REF]
    const open = this._isOpen(refPath, depth)
    return html`<button class="ref ${open ? 'open' : ''}" data-testid="ref-chip" data-ref=${k} aria-expanded=${open} @click=${() => this._toggle(refPath, depth)}>
      ${open ? '▾' : '▸'} ${this.index.label(r.type, r.object)}
    </button><a class="timeline" data-testid="chip-timeline" href=${entityHref(r.type, r.id)} title="this object across the session">timeline</a>`
  }

  private _refBody(field: string | null, value: unknown, path: Path, depth: number, ancestors: string[]): TemplateResult | typeof nothing {
    if (!this.index || field === null || value === null) return nothing
    const refPath = [...path, REF]
    if (!this._isOpen(refPath, depth)) return nothing
    const r = this.index.resolve(field, value)
    if (!r) return nothing
    const k = relKey(r.type, r.id)
    if (ancestors.includes(k)) return nothing
    const inner = [...ancestors, k]
    const entries = Object.entries(r.object)
    return html`<div class="children refbody" data-testid="ref-body" data-ref=${k}>
      <div class="refhead">
        <button class="link" @click=${() => this.dispatchEvent(selectEvent({ node: { kind: 'rels', type: r.type, id: r.id } }))}>Rels.${r.type} #${String(r.id)}</button>
      </div>
      ${entries.map(([f, v]) => this._node(f, v, [...refPath, f], depth + 1, inner, null))}
    </div>`
  }

  static override styles = css`
    :host { display: block; font: 12px/1.55 var(--font-mono); color: var(--fg); }
    .children { padding-left: 16px; border-left: 1px solid #eaeef2; margin-left: 6px; }
    .row { white-space: nowrap; display: flex; align-items: baseline; gap: 0; min-height: 19px; border-radius: 3px; }
    .row:hover { background: var(--bg-alt); }
    .tog { all: unset; width: 14px; flex: none; color: var(--fg-muted); cursor: pointer; text-align: center; font-size: 10px; }
    .key { color: #8250df; cursor: default; }
    .timeline { color: var(--accent); font: 11px var(--font-ui); margin-left: 6px; text-decoration: none; }
    .timeline:hover { text-decoration: underline; }
    .key.index { color: var(--fg-muted); }
    .colon { color: var(--fg-muted); margin-right: 4px; }
    .brace { color: var(--fg-muted); }
    .count { color: var(--fg-muted); font-style: italic; margin: 0 3px; font-family: var(--font-ui); font-size: 11px; }
    .str { color: #0a3069; white-space: pre-wrap; word-break: break-all; }
    .num { color: #0550ae; }
    .bool { color: #cf222e; }
    .null { color: var(--fg-muted); font-style: italic; }
    .ref { all: unset; margin-left: 8px; padding: 0 7px; border-radius: 10px; font: 11px/17px var(--font-ui); cursor: pointer; background: var(--accent-bg); color: var(--accent); border: 1px solid #b6e3ff; white-space: nowrap; max-width: 340px; overflow: hidden; text-overflow: ellipsis; }
    .ref:hover, .ref.open { background: #b6e3ff; }
    .ref:focus-visible { outline: 2px solid var(--accent); }
    .ref.cycle { cursor: default; background: var(--warn-bg); color: var(--warn); border-color: #eac54f; }
    .ref.absent { cursor: help; background: none; color: #8c959f; border: 1px dashed #d0d7de; }
    .ref.dangling { cursor: help; background: var(--err-bg); color: var(--err); border-color: #ffcecb; }
    .refbody { border-left: 2px solid #b6e3ff; background: #f6fbff; margin: 1px 0 3px 20px; border-radius: 0 4px 4px 0; padding: 2px 0 2px 10px; }
    .refhead { font: 11px var(--font-ui); color: var(--fg-muted); }
    .link { all: unset; cursor: pointer; color: var(--accent); }
    .link:hover { text-decoration: underline; }
    .more, .showall { all: unset; cursor: pointer; color: var(--accent); font: 11px var(--font-ui); margin: 2px 0 2px 14px; }
    .more:hover, .showall:hover { text-decoration: underline; }
    .flash { animation: flash 1.6s ease-out; }
    @keyframes flash { 0%, 40% { background: #fff2a8; } 100% { background: transparent; } }
  `
}

function key(path: Path): string {
  return JSON.stringify(path)
}

const expandedStrings = new WeakMap<JsonTree, Set<string>>()

function scalar(value: unknown, path: Path, tree: JsonTree): TemplateResult {
  if (value === null) return html`<span class="null">null</span>`
  switch (typeof value) {
    case 'string': {
      const all = expandedStrings.get(tree)?.has(key(path))
      if (value.length > LONG_STRING && !all) {
        const show = () => {
          const set = expandedStrings.get(tree) ?? new Set<string>()
          set.add(key(path))
          expandedStrings.set(tree, set)
          tree.requestUpdate()
        }
        return html`<span class="str">${JSON.stringify(value.slice(0, LONG_STRING))}…</span><button class="showall" @click=${show}>show all ${value.length} characters</button>`
      }
      return html`<span class="str">${JSON.stringify(value)}</span>`
    }
    case 'number':
      return html`<span class="num">${String(value)}</span>`
    case 'boolean':
      return html`<span class="bool">${String(value)}</span>`
    default:
      return html`<span class="null">${String(value)}</span>`
  }
}

customElements.define('json-tree', JsonTree)

declare global {
  interface HTMLElementTagNameMap {
    'json-tree': JsonTree
  }
}
