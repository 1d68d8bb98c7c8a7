/** Reading recorded header pairs. Pure: shared by the recorder, replay and the viewer's list rows. */
import type { HeaderPair } from './session.js'

/** The first value of a header, by case-insensitive name; undefined when absent. */
export function headerValue(headers: readonly HeaderPair[], name: string): string | undefined {
  const lower = name.toLowerCase()
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v
  return undefined
}
