/**
 * What `reltape verify` is about to do, worked out before anything is sent: which calls go (in seq order), which
 * cannot be sent again and why, how many go from which recorded host and as which identity, and whether every
 * identity has a token. A redacted session without `--token` for an identity it uses fails here, with nothing sent.
 */
import { ReltapeError } from '../model/errors.js'
import { SessionStore, type SessionReader } from '../store/store.js'
import type { ResolvedVerifyOptions } from './options.js'
import { VerifyOptionError } from './options.js'
import { placeholdersIn } from './outgoing.js'

/** One call to send: the recorded exchange and its label (`POST /path #2`, the occurrence of its key, as diff reads). */
export type PlannedCall = { seq: number; label: string }

/** An exchange that is not sent again, and why. */
export type SkippedCall = { seq: number; why: string }

export type IdentityUse = { calls: number; token: 'recorded' | 'given' }

export type VerifyPlan = {
  options: ResolvedVerifyOptions
  reader: SessionReader
  calls: PlannedCall[]
  skipped: SkippedCall[]
  /** Recorded host → calls that were made to it (all go to `options.upstream`). */
  hosts: Map<string, number>
  /** Identity alias → its calls and where its token comes from; calls without a token are counted in `anonymous`. */
  identities: Map<string, IdentityUse>
  anonymous: number
}

/** A live token is needed for identities the session stores only as `<identity-N>`. */
export class TokenRequiredError extends ReltapeError<'TOKEN_REQUIRED'> {
  constructor(
    readonly session: string,
    readonly missing: readonly { alias: string; seq: number }[],
  ) {
    super('TOKEN_REQUIRED', { session, missing })
    this.name = 'TokenRequiredError'
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host
  } catch {
    return '?'
  }
}

export async function planVerify(options: ResolvedVerifyOptions): Promise<VerifyPlan> {
  const store = new SessionStore(options.dir)
  const reader = await store.reader(options.session)
  const name = reader.paths.name
  const known = reader.head.identities.map((i) => i.alias)
  for (const alias of Object.keys(options.tokens))
    if (!known.includes(alias))
      throw new VerifyOptionError('tokens', `session ${JSON.stringify(name)} has no identity ${JSON.stringify(alias)}; its identities: ${known.join(', ') || '(none)'}`)
  if (options.save !== null && store.names().includes(options.save))
    throw new ReltapeError('SESSION_EXISTS', { session: options.save, dir: store.dir, instead: 'save into a new one with another --save NAME' })

  const plan: VerifyPlan = { options, reader, calls: [], skipped: [], hosts: new Map(), identities: new Map(), anonymous: 0 }
  const occurrences = new Map<string, number>()
  const missing = new Map<string, number>()
  for (const row of reader.rows) {
    const s = row.summary
    const e = await reader.exchange(s.seq)
    const req = e.request
    if (e.error?.code === 'CLIENT_ABORTED' && !e.response) {
      plan.skipped.push({ seq: s.seq, why: 'the client left before it was answered: its request may not have been sent whole' })
      continue
    }
    if (req.body.truncated || req.body.omitted) {
      plan.skipped.push({ seq: s.seq, why: `its request body was not kept whole (${req.body.truncated ? 'cut by --max-body' : 'not in the HAR it came from'})` })
      continue
    }
    const key = row.key ?? `#${s.seq}`
    const n = (occurrences.get(key) ?? 0) + 1
    occurrences.set(key, n)
    plan.calls.push({ seq: s.seq, label: `${s.method.toUpperCase()} ${s.path.split('?')[0]} #${n}` })
    const host = hostOf(req.url)
    plan.hosts.set(host, (plan.hosts.get(host) ?? 0) + 1)
    for (const alias of placeholdersIn(req)) if (options.tokens[alias] === undefined && !missing.has(alias)) missing.set(alias, s.seq)
    const alias = req.auth?.identity
    if (alias) {
      const use = plan.identities.get(alias) ?? { calls: 0, token: options.tokens[alias] !== undefined ? 'given' : 'recorded' }
      use.calls++
      plan.identities.set(alias, use)
    } else plan.anonymous++
  }
  if (missing.size) throw new TokenRequiredError(name, [...missing].map(([alias, seq]) => ({ alias, seq })))
  return plan
}

/** The plan in words, for the confirmation: where the calls go, from where, as whom. */
export function describePlan(plan: VerifyPlan): string[] {
  const o = plan.options
  const n = plan.calls.length
  const lines = [`reltape verify: ${n} call(s) of session ${JSON.stringify(plan.reader.paths.name)} will be sent to ${o.upstream}, ${o.concurrency === 1 ? 'one at a time, in seq order' : `up to ${o.concurrency} at a time, started in seq order`}:`]
  for (const [host, count] of plan.hosts) lines.push(`  ${count} call(s) recorded at ${host} → ${new URL(o.upstream).host}`)
  const who = [...plan.identities].map(([alias, u]) => `${alias}: ${u.calls} call(s), ${u.token === 'given' ? 'token from --token' : 'recorded token'}`)
  if (plan.anonymous) who.push(`no token: ${plan.anonymous} call(s)`)
  if (who.length) lines.push(`  as ${who.join('; ')}`)
  if (plan.skipped.length) lines.push(`  not sent: ${plan.skipped.map((s) => `#${s.seq} (${s.why})`).join('; ')}`)
  if (o.insecureUpstream) lines.push('  WARNING: --insecure-upstream: the upstream\'s TLS certificate is NOT verified')
  lines.push('  These are real calls: what they do (send a message, upload a file) happens on the live API.')
  if (o.save) lines.push(`  The live exchanges are saved as session ${JSON.stringify(o.save)}.`)
  return lines
}
