/**
 * The exchange list's filter language: free words plus `ok:`, `path:`, `identity:`, `status:`, `error:`,
 * `method:` and `seq:` terms. Terms are ANDed; `-term` negates; values may be quoted ("a b").
 *
 *   ok:false                 envelope errors and transport failures
 *   path:/chats              path contains
 *   identity:identity-2      exact alias; identity:none for calls without a token
 *   status:404  status:4xx   HTTP status, or a class of statuses; status:none for no response
 *   error:ReplayMiss         envelope error code or transport error code contains; error:* for any error
 */
import { isErrorSummary, type ExchangeSummary } from '../../../model/summary.js'

export type Term = { key: string | null; value: string; negate: boolean }
export type Filter = { terms: Term[]; problems: string[] }

const KEYS = ['ok', 'path', 'identity', 'status', 'error', 'method', 'seq'] as const

export function parseFilter(text: string): Filter {
  const terms: Term[] = []
  const problems: string[] = []
  const re = /(-?)(?:([a-z]+):)?(?:"([^"]*)"?|(\S+))/gi
  for (const m of text.matchAll(re)) {
    const negate = m[1] === '-'
    let key = m[2]?.toLowerCase() ?? null
    let value = m[3] ?? m[4] ?? ''
    if (key !== null && !(KEYS as readonly string[]).includes(key)) {
      // Not one of ours (a URL's `https:` for example): treat the whole thing as free text.
      value = `${m[2]}:${value}`
      key = null
    }
    if (key === 'ok' && !['true', 'false'].includes(value.toLowerCase())) problems.push(`ok: takes true or false, not "${value}"`)
    if (key === null && value === '') continue
    terms.push({ key, value, negate })
  }
  return { terms, problems }
}

/** An envelope error or a transport failure: model/summary.ts's rule, as the list counts errors. */
export const isError = isErrorSummary

function matchStatus(status: number | null, value: string): boolean {
  const v = value.toLowerCase()
  if (v === 'none' || v === 'null') return status === null
  if (status === null) return false
  if (/^\dxx$/.test(v)) return Math.floor(status / 100) === Number(v[0])
  const cmp = /^(>=|<=|>|<)(\d+)$/.exec(v)
  if (cmp) {
    const n = Number(cmp[2])
    return cmp[1] === '>=' ? status >= n : cmp[1] === '<=' ? status <= n : cmp[1] === '>' ? status > n : status < n
  }
  return String(status) === v
}

function matchTerm(s: ExchangeSummary, t: Term): boolean {
  const v = t.value.toLowerCase()
  const has = (field: string | null | undefined) => field !== null && field !== undefined && field.toLowerCase().includes(v)
  switch (t.key) {
    case 'ok':
      return v === 'false' ? isError(s) : s.ok === true && s.transportError === null
    case 'path':
      return has(s.path)
    case 'identity':
      // Exact, so identity-1 is not identity-10; a trailing * makes it a prefix.
      if (v === 'none') return s.identity === null
      return v.endsWith('*') ? (s.identity ?? '').toLowerCase().startsWith(v.slice(0, -1)) : (s.identity ?? '').toLowerCase() === v
    case 'status':
      return matchStatus(s.status, v)
    case 'error':
      if (v === '*' || v === '') return isError(s)
      return has(s.errorCode) || has(s.transportError)
    case 'method':
      return s.method.toLowerCase() === v
    case 'seq':
      return String(s.seq) === v
    default:
      return has(s.path) || has(s.method) || has(s.errorCode) || has(s.transportError) || has(s.identity) || has(s.host) || String(s.seq) === v
  }
}

/** A predicate for the list, or null when the filter keeps everything. */
export function compileFilter(text: string): ((s: ExchangeSummary) => boolean) | null {
  const { terms } = parseFilter(text)
  if (terms.length === 0) return null
  return (s) => terms.every((t) => matchTerm(s, t) !== t.negate)
}
