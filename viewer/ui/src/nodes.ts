/**
 * What the envelope view can select: an item of Result, or a Rels object.
 * The Result tree, the Rels panel and the graph all speak in these.
 */
import type { Site } from '../../../model/rels.js'
import { relKey } from '../../../model/rels.js'

export type NodeRef = { kind: 'result'; index: number | null } | { kind: 'rels'; type: string; id: string | number }

export function nodeKey(n: NodeRef): string {
  return n.kind === 'result' ? `result:${n.index ?? ''}` : relKey(n.type, n.id)
}

/** The graph node a reference's site belongs to: the Result item (top-level index when Result is an array) or the Rels object. */
export function siteNode(site: Site, resultIsArray: boolean): NodeRef {
  if (site.where === 'rels') return { kind: 'rels', type: site.type ?? '', id: site.id ?? '' }
  const first = site.path[0]
  return { kind: 'result', index: resultIsArray && typeof first === 'number' ? first : null }
}

/** `Result[0].ClientId` style text for a site, for "referenced by" links. */
export function sitePath(site: Site): string {
  let out = site.where === 'result' ? 'Result' : ''
  for (const p of site.path) out += typeof p === 'number' ? `[${p}]` : out === '' ? p : `.${p}`
  return out
}

/** Fired by envelope parts to select an item; bubbles and crosses shadow roots. */
export const SELECT_EVENT = 'node-select'
export type SelectDetail = { node: NodeRef; path?: (string | number)[] }

export function selectEvent(detail: SelectDetail): CustomEvent<SelectDetail> {
  return new CustomEvent<SelectDetail>(SELECT_EVENT, { detail, bubbles: true, composed: true })
}
