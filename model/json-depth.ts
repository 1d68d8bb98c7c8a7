/**
 * How deeply nested a JSON body may be for reltape to treat it as a tree. One limit for every part: the recorder
 * stores a deeper body as the text it is, the viewer shows it as text (its UI renders trees by recursion), and
 * replay, which matches bodies at any depth, explains a miss on one without listing its fields.
 * Pure TypeScript (no Node types): the viewer's UI may import it.
 */
import { SessionFormatError } from './session.js'

/**
 * Levels of arrays and objects (`1` and `"a"` are depth 0, `[]` and `{"a": 1}` depth 1, `[[1]]` depth 2). Real
 * API bodies stay far below it; V8's own `JSON.stringify` gives up at a few thousand, so a body within the limit can
 * always be written back out, also inside an exchange.
 */
export const MAX_JSON_DEPTH = 1000

/**
 * True when `value` nests arrays and objects deeper than `limit` levels. Walks without recursion, so any depth is
 * safe to ask about, and stops at the first level past the limit.
 */
export function exceedsJsonDepth(value: unknown, limit: number = MAX_JSON_DEPTH): boolean {
  if (value === null || typeof value !== 'object') return false
  // Containers still to look into, with the depth each one stands at.
  const values: object[] = [value]
  const depths: number[] = [1]
  while (values.length > 0) {
    const v = values.pop() as object
    const depth = depths.pop() as number
    if (depth > limit) return true
    const items: unknown[] = Array.isArray(v) ? v : Object.values(v)
    for (const item of items) {
      if (item !== null && typeof item === 'object') {
        values.push(item)
        depths.push(depth + 1)
      }
    }
  }
  return false
}

/**
 * False when `text` holds at most `limit` opening brackets (`[` or `{`, in strings too): JSON with so few cannot nest
 * deeper than `limit`, and exceedsJsonDepth need not walk its value. Counts by searching, stops past the limit.
 */
export function mayExceedJsonDepth(text: string, limit: number = MAX_JSON_DEPTH): boolean {
  let n = 0
  for (let i = text.indexOf('{'); i >= 0 && n <= limit; i = text.indexOf('{', i + 1)) n++
  for (let i = text.indexOf('['); i >= 0 && n <= limit; i = text.indexOf('[', i + 1)) n++
  return n > limit
}

/** The words every part uses for a body past the limit. */
export function tooDeepText(limit: number = MAX_JSON_DEPTH): string {
  return `JSON nested deeper than ${limit} levels`
}

/**
 * The error for a JSON body that a session holds parsed only (without its text) and too deep to write back out:
 * SESSION_INVALID naming the file and the exchange. Only a hand-made file holds one: a recorder stores a body
 * past the limit as text.
 */
export function tooDeepToWrite(file: string, seq: number, path: string): SessionFormatError {
  return new SessionFormatError(file, `exchange #${seq} ${path}`, `${tooDeepText()}, stored without its text: it cannot be written back out (store it as text)`)
}
