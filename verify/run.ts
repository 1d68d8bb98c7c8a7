/**
 * Sends a planned verify: each call in seq order (a window of `concurrency` in flight, one by default), its live
 * exchange compared with the recorded one by model/diff.ts, and, with `save`, journaled into a new session through
 * the store (journal, lock, identities) before the next result is reported.
 */
import { diffExchanges } from '../model/diff.js'
import type { Exchange } from '../model/session.js'
import { liveExchange } from '../store/live-exchange.js'
import type { CallDiff, SessionDiff } from '../store/session-diff.js'
import { SessionStore, type SessionWriter } from '../store/store.js'
import { UpstreamClient } from '../store/upstream-client.js'
import { toolName } from '../store/version.js'
import { localIdClock, outgoingRequest, swapsFor, type Swap } from './outgoing.js'
import type { PlannedCall, SkippedCall, VerifyPlan } from './plan.js'

/** What `reltape verify --json` prints: diff's shape (A the recording, B the live API), and what was not sent or saved. */
export type VerifyResult = SessionDiff & { sent: number; skipped: SkippedCall[]; saved: string | null }

export type VerifyHooks = {
  /** Each call once its live exchange is compared, in seq order; `changes` is empty for a call that did not drift. */
  onCall?: (call: CallDiff) => void
}

/**
 * A live exchange as the saved session stores it: where the recording held `<identity-N>` (a redacted session), the
 * live token given with `--token` is put back as a placeholder, with the saved session's own alias.
 */
function redactedAgain(live: Exchange, swaps: readonly Swap[], writer: SessionWriter): Exchange {
  const given = swaps.filter((s) => s.from.startsWith('<'))
  if (!given.length) return live
  let text = JSON.stringify(live)
  for (const s of given) text = text.split(s.to).join(`<${writer.identityFor(s.to).alias}>`)
  return JSON.parse(text) as Exchange
}

export async function runVerify(plan: VerifyPlan, hooks: VerifyHooks = {}): Promise<VerifyResult> {
  const o = plan.options
  const client = new UpstreamClient({ caPems: o.caPems, insecure: o.insecureUpstream }, o.upstreamTimeoutMs)
  let writer: SessionWriter | null = null
  try {
    if (o.save) writer = await new SessionStore(o.dir).open(o.save, { recording: { tool: toolName, mode: 'reverse', upstream: o.upstream } })
    const w = writer
    const nextLocalId = localIdClock()
    let liveSeq = 0

    const one = async (call: PlannedCall): Promise<CallDiff> => {
      // Reserved before anything is awaited: live seqs follow the recorded order whatever the concurrency.
      const seq = w ? w.nextSeq() : ++liveSeq
      const recorded = await plan.reader.exchange(call.seq)
      const swaps = swapsFor(recorded.request, o.tokens)
      const sent = outgoingRequest(recorded.request, o.upstream, swaps, nextLocalId)
      const startedAt = new Date()
      const result = await client.send(sent)
      const alias = recorded.request.auth?.identity ?? null
      const live = await liveExchange({ seq, startedAt, sent, result, identityOf: w ? (t) => w.identityFor(t).alias : () => alias })
      if (w) {
        w.append(redactedAgain(live, swaps, w))
        w.flush()
      }
      return { key: call.label, a: call.seq, b: seq, changes: diffExchanges(recorded, live, { ignore: o.ignore }) }
    }

    const calls: CallDiff[] = []
    let unchanged = 0
    const inflight: Promise<CallDiff>[] = []
    const settle = async () => {
      const call = await inflight.shift()!
      if (call.changes.length) calls.push(call)
      else unchanged++
      hooks.onCall?.(call)
    }
    try {
      for (const call of plan.calls) {
        inflight.push(one(call))
        if (inflight.length >= o.concurrency) await settle()
      }
      while (inflight.length) await settle()
    } catch (e) {
      // Let the calls still in flight finish (their failures are this one's) before the writer closes.
      await Promise.allSettled(inflight)
      throw e
    }
    return { equal: calls.length === 0, unchanged, calls, sent: plan.calls.length, skipped: plan.skipped, saved: o.save }
  } finally {
    await client.close()
    await writer?.close()
  }
}
