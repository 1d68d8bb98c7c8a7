/**
 * The neighbourhood of one item in an envelope's reference graph: Result items and Rels objects as nodes,
 * references as edges, a few hops out from the selected node, laid out on rings by distance.
 */
import type { RelsIndex } from '../../../model/rels.js'
import { relKey } from '../../../model/rels.js'
import { type NodeRef, nodeKey, siteNode } from './nodes.js'

export type GraphNode = { key: string; ref: NodeRef; label: string; hop: number; x: number; y: number }
export type GraphEdge = { from: string; to: string; fields: string[] }
export type Graph = { nodes: GraphNode[]; edges: GraphEdge[]; hidden: number; width: number; height: number }

export const GRAPH_MIN_H = 160
/** Horizontal distance between hop columns, vertical between nodes of a column. */
export const COL_GAP = 240
export const ROW_GAP = 36
export const NODE_W = 164

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
  // Layered picture: what the selected item refers to goes right, what refers to it goes left, a column per hop.
  const hopOf = new Map<string, number>([[startKey, 0]])
  const sideOf = new Map<string, number>([[startKey, 0]])
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
        sideOf.set(n, h === 1 ? (edges.has(`${k}→${n}`) ? 1 : -1) : (sideOf.get(k) ?? 1))
        next.push(n)
      }
    }
    frontier = next
  }
  const columns = new Map<number, string[]>()
  for (const [k, h] of hopOf) {
    const col = h * (sideOf.get(k) ?? 1)
    columns.set(col, [...(columns.get(col) ?? []), k])
  }
  const tallest = Math.max(...[...columns.values()].map((c) => c.length))
  const height = Math.max(GRAPH_MIN_H, tallest * ROW_GAP + 24)
  const cols = [...columns.keys()]
  const minCol = Math.min(...cols)
  const width = (Math.max(...cols) - minCol) * COL_GAP + NODE_W + 24
  const nodes: GraphNode[] = []
  for (const [col, keys] of columns) {
    keys.sort()
    keys.forEach((k, i) => {
      const ref = refs.get(k) as NodeRef
      nodes.push({ key: k, ref, label: labelOf(index, ref), hop: hopOf.get(k) ?? 0, x: (col - minCol) * COL_GAP + NODE_W / 2 + 12, y: ((i + 1) * height) / (keys.length + 1) })
    })
  }
  const shownEdges = [...edges.values()].filter((e) => hopOf.has(e.from) && hopOf.has(e.to))
  return { nodes, edges: shownEdges, hidden, width, height }
}
