/**
 * The neighbourhood of one item in an envelope's reference graph: Result items and Rels objects as nodes,
 * references as edges, a few hops out from the selected node, laid out on rings by distance.
 */
import type { RelsIndex } from '../../../model/rels.js'
import { relKey } from '../../../model/rels.js'
import { type NodeRef, nodeKey, siteNode } from './nodes.js'

export type GraphNode = { key: string; ref: NodeRef; label: string; hop: number; x: number; y: number }
export type GraphEdge = { from: string; to: string; fields: string[] }
export type Graph = { nodes: GraphNode[]; edges: GraphEdge[]; hidden: number }

export const GRAPH_W = 640
export const GRAPH_H = 380

function labelOf(index: RelsIndex, ref: NodeRef): string {
  if (ref.kind === 'result') return ref.index === null ? 'Result' : `Result[${ref.index}]`
  const o = index.get(ref.type, ref.id)
  return o ? index.label(ref.type, o) : `${ref.type} #${String(ref.id)}`
}

export function neighbourhood(index: RelsIndex, resultIsArray: boolean, start: NodeRef, hops = 2, maxNodes = 28): Graph {
  // Undirected adjacency for the walk; edges keep their direction for drawing.
  const refs = new Map<string, NodeRef>()
  const adj = new Map<string, Set<string>>()
  const edges = new Map<string, GraphEdge>()
  for (const r of index.references) {
    if (!r.target) continue
    const from = siteNode(r.site, resultIsArray)
    const to: NodeRef = { kind: 'rels', type: r.target.type, id: r.target.id }
    const fk = nodeKey(from)
    const tk = relKey(r.target.type, r.target.id)
    if (fk === tk) continue
    refs.set(fk, from)
    refs.set(tk, to)
    if (!adj.has(fk)) adj.set(fk, new Set())
    if (!adj.has(tk)) adj.set(tk, new Set())
    adj.get(fk)?.add(tk)
    adj.get(tk)?.add(fk)
    const ek = `${fk}→${tk}`
    const e = edges.get(ek)
    if (e) {
      if (!e.fields.includes(r.field)) e.fields.push(r.field)
    } else edges.set(ek, { from: fk, to: tk, fields: [r.field] })
  }
  const startKey = nodeKey(start)
  refs.set(startKey, start)
  const hopOf = new Map<string, number>([[startKey, 0]])
  let frontier = [startKey]
  let hidden = 0
  for (let h = 1; h <= hops && frontier.length > 0; h++) {
    const next: string[] = []
    for (const k of frontier) {
      for (const n of adj.get(k) ?? []) {
        if (hopOf.has(n)) continue
        if (hopOf.size >= maxNodes) {
          hidden++
          continue
        }
        hopOf.set(n, h)
        next.push(n)
      }
    }
    frontier = next
  }
  // Rings: the selected node in the middle, each hop on a wider ellipse.
  const byHop = new Map<number, string[]>()
  for (const [k, h] of hopOf) byHop.set(h, [...(byHop.get(h) ?? []), k])
  const nodes: GraphNode[] = []
  // Scale rings to the hops actually reached, so a one-hop picture uses the whole area.
  const reach = Math.max(1, ...byHop.keys())
  const cx = GRAPH_W / 2
  const cy = GRAPH_H / 2
  for (const [h, keys] of byHop) {
    keys.forEach((k, i) => {
      const angle = (2 * Math.PI * i) / keys.length + (h % 2 ? -Math.PI / 2 : -Math.PI / 2 + Math.PI / keys.length)
      const rx = h === 0 ? 0 : (h / reach) * (cx - 95)
      const ry = h === 0 ? 0 : (h / reach) * (cy - 28)
      const ref = refs.get(k) as NodeRef
      nodes.push({ key: k, ref, label: labelOf(index, ref), hop: h, x: cx + rx * Math.cos(angle), y: cy + ry * Math.sin(angle) })
    })
  }
  const shownEdges = [...edges.values()].filter((e) => hopOf.has(e.from) && hopOf.has(e.to))
  return { nodes, edges: shownEdges, hidden }
}
