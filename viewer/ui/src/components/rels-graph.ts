import { LitElement, css, html, nothing, svg, type TemplateResult } from 'lit'
import type { RelsIndex } from '../../../../model/rels.js'
import { type GraphNode, NODE_W, neighbourhood } from '../graph.js'
import { type NodeRef, nodeKey, selectEvent } from '../nodes.js'

const PALETTE = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#9a6700', '#bc4c00', '#0550ae', '#116329']

function colourOf(ref: NodeRef): string {
  if (ref.kind === 'result') return '#57606a'
  let h = 0
  for (const c of ref.type) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return PALETTE[h % PALETTE.length] as string
}

function short(text: string, n = 26): string {
  return text.length > n ? text.slice(0, n - 1) + '…' : text
}

/**
 * An SVG picture of the selected item's neighbourhood (two hops): Result items and Rels objects as nodes,
 * references as arrows. Labels go through Lit's `svg` text bindings, so recorded names stay text.
 *
 * @fires node-select - when a node is clicked (detail: SelectDetail)
 */
export class RelsGraph extends LitElement {
  static override properties = {
    index: { attribute: false },
    resultIsArray: { type: Boolean, attribute: 'result-is-array' },
    selected: { attribute: false },
    hops: { type: Number },
  }

  declare index: RelsIndex | null
  declare resultIsArray: boolean
  declare selected: NodeRef | null
  /** How far from the selected node the picture reaches. */
  declare hops: number

  constructor() {
    super()
    this.index = null
    this.resultIsArray = false
    this.selected = null
    this.hops = 2
  }

  override render(): TemplateResult {
    if (!this.index || !this.selected) return html`<p class="empty">Select an item to see its references.</p>`
    const g = neighbourhood(this.index, this.resultIsArray, this.selected, this.hops)
    if (g.nodes.length <= 1) return html`<p class="empty">This item has no references.</p>`
    const pos = new Map(g.nodes.map((n) => [n.key, n]))
    const selKey = nodeKey(this.selected)
    const pairs = new Set(g.edges.map((e) => `${e.from}→${e.to}`))
    return html`<svg viewBox="0 0 ${g.width} ${g.height}" style="max-width:${g.width}px" role="img" aria-label="reference graph" data-testid="rels-graph">
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#8c959f"></path>
          </marker>
        </defs>
        ${g.edges.map((e) => {
          const a = pos.get(e.from) as GraphNode
          const b = pos.get(e.to) as GraphNode
          // From the side of one box to the side of the other; within one column, a bow out to the right.
          const same = Math.abs(a.x - b.x) < 1
          const dir = b.x >= a.x ? 1 : -1
          const x1 = same ? a.x + NODE_W / 2 : a.x + (dir * NODE_W) / 2
          const x2 = same ? b.x + NODE_W / 2 : b.x - (dir * NODE_W) / 2
          const cx = same ? a.x + NODE_W / 2 + 40 : (x1 + x2) / 2
          const cy = same ? (a.y + b.y) / 2 : (a.y + b.y) / 2
          // Two objects that refer to each other get two parallel arrows, one above the other.
          const off = pairs.has(`${e.to}→${e.from}`) ? (e.from < e.to ? -5 : 5) : 0
          const y1 = a.y + off
          const y2 = b.y + off
          const d = same ? `M ${x1} ${y1} Q ${cx} ${cy} ${x2} ${y2}` : `M ${x1} ${y1} C ${cx} ${y1} ${cx} ${y2} ${x2} ${y2}`
          return svg`<g class="edge"><title>${e.fields.join(', ')}</title><path d=${d} marker-end="url(#arrow)"></path>
            <text class="elabel" x=${same ? cx + 4 : cx} y=${off > 0 ? cy + off + 12 : cy + off - 4}>${short(e.fields.join(', '), 22)}</text></g>`
        })}
        ${g.nodes.map(
          (n) => svg`<g class="node ${n.key === selKey ? 'sel' : ''}" data-key=${n.key} transform="translate(${n.x} ${n.y})" @click=${() => this.dispatchEvent(selectEvent({ node: n.ref }))}>
            <title>${n.label}</title>
            <rect x=${-NODE_W / 2} y="-12" width=${NODE_W} height="24" rx="12" fill=${n.key === selKey ? '#fff8c5' : '#ffffff'} stroke=${colourOf(n.ref)}></rect>
            <text text-anchor="middle" y="4" fill=${colourOf(n.ref)}>${short(n.label, 25)}</text>
          </g>`,
        )}
      </svg>
      ${g.hidden ? html`<p class="empty">${g.hidden} more nodes not drawn.</p>` : nothing}`
  }

  static override styles = css`
    :host { display: block; }
    svg { width: 100%; display: block; margin: 0 auto; background: #fbfcfd; border: 1px solid var(--border); border-radius: 6px; font: 11px var(--font-ui); }
    path { stroke: #8c959f; stroke-width: 1.2; fill: none; }
    marker path { fill: #8c959f; stroke: none; }
    .elabel { fill: var(--fg-muted); font-size: 10px; text-anchor: middle; paint-order: stroke; stroke: #fbfcfd; stroke-width: 3px; }
    .node { cursor: pointer; }
    .node rect { stroke-width: 1.5; }
    .node.sel rect { stroke-width: 2.5; }
    .node:hover rect { fill: var(--bg-alt); }
    .empty { color: var(--fg-muted); margin: 4px 0; }
  `
}

customElements.define('rels-graph', RelsGraph)

declare global {
  interface HTMLElementTagNameMap {
    'rels-graph': RelsGraph
  }
}
