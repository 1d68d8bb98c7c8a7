/**
 * The response envelope `{OK, Error, Result, Rels}` every call of the recorded API answers with.
 * Pure TypeScript: the viewer's server and its UI both use it.
 */

/** An object in `Rels`: anything with an `Id` (a number, or a string such as a file's UUID name). */
export type RelObject = { Id: string | number; [field: string]: unknown }

export type Envelope = {
  OK: boolean
  /** `null` on success; any JSON otherwise (the API does not fix its shape). */
  Error: unknown
  Result: unknown
  /** Related objects grouped by plural type name; `{}` when the body had none. */
  Rels: Record<string, RelObject[]>
}

/** A JSON object (not an array, not null). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isRelObject(value: unknown): value is RelObject {
  return isPlainObject(value) && (typeof value.Id === 'number' || typeof value.Id === 'string')
}

/**
 * Recognises an envelope in a parsed JSON body, or returns null for anything else
 * (a plain JSON body, an array, a scalar). Tolerant by design: a missing `Error`/`Result`
 * reads as null, a `Rels` entry that is not an array is ignored, and items without an `Id`
 * are dropped, because the viewer must show whatever was recorded without breaking.
 */
export function asEnvelope(json: unknown): Envelope | null {
  if (!isPlainObject(json) || typeof json.OK !== 'boolean') return null
  const rels: Record<string, RelObject[]> = {}
  if (isPlainObject(json.Rels)) {
    for (const [type, items] of Object.entries(json.Rels)) {
      // Defined, not assigned: a recorded type named `__proto__` is a type like any other, not the object's prototype.
      if (Array.isArray(items)) Object.defineProperty(rels, type, { value: items.filter(isRelObject), enumerable: true, writable: true, configurable: true })
    }
  }
  return { OK: json.OK, Error: json.Error ?? null, Result: json.Result ?? null, Rels: rels }
}

/** Number of items in a Result, for lists: array length, 1 for an object or scalar, 0 for null. */
export function resultCount(result: unknown): number {
  if (result === null || result === undefined) return 0
  if (Array.isArray(result)) return result.length
  return 1
}
