/**
 * Two sessions compared call by call: each call is paired with its partner by replay key and occurrence (the 2nd
 * `chats/history` with the same body pairs with the 2nd), so a call added or missing shows as such instead of a
 * cascade of changes, and each pair is diffed with model/diff.ts. Exchanges are read one at a time by offset.
 */
import { alignCalls, diffExchanges, type CallRef, type Change } from '../model/diff.js'
import { keyOf, type FieldPath } from '../model/match.js'
import type { Exchange } from '../model/session.js'
import { DEFAULT_MATCH_RULES, keyDigest, recordedShape } from './request-key.js'
import type { SessionReader } from './session-reader.js'

const PAIR_BATCH = 256

export type CallDiff = { key: string; a: number | null; b: number | null; changes: Change[] }

/** What `reltape diff --json` prints (a contract): only calls that differ or have no partner are listed. */
export type SessionDiff = { equal: boolean; unchanged: number; calls: CallDiff[] }

function sameRules(ignore: readonly FieldPath[]): boolean {
  const d = DEFAULT_MATCH_RULES.ignoreFields
  return ignore.length === d.length && ignore.every((p, i) => p.join('.') === d[i]!.join('.'))
}

/** The calls of a session with their keys: the index's digests under the default rules, computed otherwise. */
async function callsOf(reader: SessionReader, ignore: readonly FieldPath[]): Promise<CallRef[]> {
  const fromIndex = sameRules(ignore)
  const out: CallRef[] = []
  for (const row of reader.rows) {
    const s = row.summary
    let key = fromIndex ? row.key : null
    if (key === null) {
      const { shape } = await recordedShape((await reader.exchange(s.seq)).request)
      key = keyDigest(keyOf(shape, { ...DEFAULT_MATCH_RULES, ignoreFields: ignore }))
    }
    out.push({ seq: s.seq, key, label: `${s.method.toUpperCase()} ${s.path.split('?')[0]}` })
  }
  return out
}

export async function diffSessions(a: SessionReader, b: SessionReader, ignore: readonly FieldPath[]): Promise<SessionDiff> {
  const aligned = alignCalls(await callsOf(a, ignore), await callsOf(b, ignore))
  const calls: CallDiff[] = []
  let unchanged = 0
  // Pairs are read a batch at a time: each side's exchanges in a few reads rather than one file opening each.
  for (let i = 0; i < aligned.length; i += PAIR_BATCH) {
    const batch = aligned.slice(i, i + PAIR_BATCH)
    const paired = batch.filter((c) => c.a !== null && c.b !== null)
    const xs = await a.exchangesOf(paired.map((c) => c.a!))
    const ys = await b.exchangesOf(paired.map((c) => c.b!))
    const changesOf = new Map(paired.map((c, k) => [c, diffExchanges(xs[k]!, ys[k]!, { ignore })]))
    for (const call of batch) {
      const changes = changesOf.get(call)
      if (!changes) calls.push({ key: call.label, a: call.a, b: call.b, changes: [] })
      else if (changes.length) calls.push({ key: call.label, a: call.a, b: call.b, changes })
      else unchanged++
    }
  }
  return { equal: calls.length === 0, unchanged, calls }
}

/** Two single exchanges compared, in the same shape. */
export function diffOne(label: string, a: Exchange, b: Exchange, ignore: readonly FieldPath[]): SessionDiff {
  const changes = diffExchanges(a, b, { ignore })
  return changes.length ? { equal: false, unchanged: 0, calls: [{ key: label, a: a.seq, b: b.seq, changes }] } : { equal: true, unchanged: 1, calls: [] }
}
