/**
 * Checks of a parsed JSON document's fields, each naming the JSON path of a value that is wrong: shared by the
 * session format (session.ts) and HAR import (har.ts), which each throw their own error through `fail`.
 */

type Json = unknown

/** A value as an error message names it: `null`, `an array`, `nothing`, `the string "…"`, `the number 3`. */
export function describeJson(value: Json): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (value === undefined) return 'nothing'
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`
  return typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value)}`
}

export abstract class JsonChecker {
  /**
   * @param sayMissing a field that is not there is said to be `missing` (HAR, whose exporters leave fields out)
   *   rather than `expected …, found nothing`
   */
  constructor(private readonly sayMissing = false) {}

  /** Throws the document's error for the value at `path`. */
  abstract fail(path: string, problem: string): never

  /** Fails at `path`: the value is not `what` was expected. */
  protected expected(what: string, value: Json, path: string): never {
    this.fail(path, value === undefined && this.sayMissing ? 'missing' : `expected ${what}, found ${describeJson(value)}`)
  }

  object(value: Json, path: string): Record<string, Json> {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) this.expected('an object', value, path)
    return value as Record<string, Json>
  }

  array(value: Json, path: string): Json[] {
    if (!Array.isArray(value)) this.expected('an array', value, path)
    return value
  }

  string(value: Json, path: string): string {
    if (typeof value !== 'string') this.expected('a string', value, path)
    return value
  }

  number(value: Json, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value)) this.expected('a number', value, path)
    return value
  }
}
