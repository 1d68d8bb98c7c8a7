/** Replay's options: one typed object, defaults resolved once, validated, frozen. */
import { ReltapeError } from '../model/errors.js'
import { reltapeHome } from '../store/paths.js'
import { DEFAULT_KEY_FIELDS } from '../store/request-key.js'
import { upstreamOrigin } from '../store/upstream-options.js'
import { parseFieldPath, type FieldPath, type MatchRules } from '../model/match.js'

/** The rules a replay server applies (everything except where the session comes from and where it listens). */
export type ReplayRules = {
  /**
   * A request whose key has no recordings left is a miss, instead of getting its last recording again.
   * @default false
   */
  strict?: boolean
  /**
   * JSON body fields left out of the key (dotted paths; `Items[].LocalId` or `Items.*.LocalId` for array items).
   * Giving a list replaces the default.
   * @default ['LocalId']
   */
  ignoreFields?: readonly string[]
  /**
   * Fields whose live value replaces the recorded request's value wherever the recorded response holds it.
   * Giving a list replaces the default.
   * @default ['LocalId']
   */
  echoFields?: readonly string[]
  /** The identity (which token made the call) is part of the key. @default false */
  matchIdentity?: boolean
  /** The host the client addressed is part of the key. @default false */
  matchHost?: boolean
  /** `recorded` waits each recording's duration before answering. @default 'none' */
  latency?: 'recorded' | 'none'
  /**
   * Web origins (`scheme://host[:port]`) whose pages may read replay's answers, on top of those always allowed: the
   * origins the session was recorded from and loopback pages (`http://localhost:*`, `http://127.0.0.1:*`,
   * `http://[::1]:*`, and the same over https). `'*'` allows every origin. A request from any other origin is
   * answered without CORS headers, so a page open elsewhere in the browser cannot read recorded responses.
   * @default []
   */
  allowOrigins?: readonly string[]
  /**
   * Misses kept with their details (the latest ones); older ones are only counted (`state().missCounts`), so a
   * client that misses without end does not grow replay's memory.
   * @default 1000
   */
  keepMisses?: number
  /** Called with one line per request and for warnings. @default no logging */
  log?: (line: string) => void
  /**
   * `replay` answers from the session only and never contacts any upstream. `record-missing` fills the session's
   * gaps: a request no recording answers (or, with `strict`, one whose recordings ran out) is forwarded to
   * `upstream`, answered live and appended to the session through the store (its lock held while replay runs), so
   * that the next replay answers it offline. `refresh` answers every request live from `upstream` and, at `close()`,
   * replaces the session with what was answered (the old file kept as `<name>.before-refresh.json`; nothing is
   * replaced when no call was answered). Both need a session on disk.
   * @default 'replay'
   */
  mode?: ReplayMode
  /** `record-missing`: the live API's origin (`https://api.example`, no path) that misses are forwarded to. @default null */
  upstream?: string | null
  /** `record-missing`: PEM files of extra CAs to trust upstream, besides the system's. @default [] */
  upstreamCaFiles?: readonly string[]
  /** `record-missing`: turn upstream TLS verification off (contradicts `upstreamCaFiles`). @default false */
  insecureUpstream?: boolean
  /** `record-missing`: trust reltape's own CA upstream too, when `home` has one. @default true */
  trustOwnCA?: boolean
  /** reltape's home, where its CA is. @default $RELTAPE_HOME, else ~/.reltape */
  home?: string
}

/** Whether replay may contact an upstream: never (`replay`), for what the session lacks (`record-missing`), or for everything (`refresh`). */
export type ReplayMode = 'replay' | 'record-missing' | 'refresh'

export const REPLAY_MODES: readonly ReplayMode[] = Object.freeze(['replay', 'record-missing', 'refresh'])

/** The rules after defaults and validation. */
export type ResolvedRules = Readonly<{
  strict: boolean
  ignoreFields: readonly string[]
  echoFields: readonly string[]
  match: MatchRules
  echoPaths: readonly FieldPath[]
  latency: 'recorded' | 'none'
  /** The extra origins allowed, each as `new URL(o).origin` writes it; `*` when every origin is. */
  allowOrigins: readonly string[]
  keepMisses: number
  log: ((line: string) => void) | null
  mode: ReplayMode
  /** The upstream origin in `record-missing` and `refresh` modes, else null. */
  upstream: string | null
  upstreamCaFiles: readonly string[]
  insecureUpstream: boolean
  trustOwnCA: boolean
  home: string
}>

/** A bad option value: OPTION_INVALID (exit 2), naming the option and the CLI's flag for it. */
export class ReplayOptionError extends ReltapeError<'OPTION_INVALID'> {
  constructor(
    readonly option: keyof ReplayRules,
    problem: string,
  ) {
    super('OPTION_INVALID', { option, flag: FLAGS[option], problem })
    this.name = 'ReplayOptionError'
  }
}

/** The `reltape replay` flag of each option, for messages. */
const FLAGS: Partial<Record<keyof ReplayRules, string>> = {
  strict: '--strict',
  ignoreFields: '--ignore-field',
  echoFields: '--echo-field',
  matchIdentity: '--match-identity',
  matchHost: '--match-host',
  latency: '--latency',
  allowOrigins: '--allow-origin',
  keepMisses: '--keep-misses',
  mode: '--record-missing or --refresh',
  upstream: '--upstream',
  upstreamCaFiles: '--upstream-ca',
  insecureUpstream: '--insecure-upstream',
}

const DEFAULT_FIELDS = DEFAULT_KEY_FIELDS

function paths(option: 'ignoreFields' | 'echoFields', list: readonly string[]): FieldPath[] {
  return list.map((p) => {
    try {
      return parseFieldPath(p)
    } catch (e) {
      throw new ReplayOptionError(option, (e as Error).message)
    }
  })
}

/** An origin as browsers send it (`http://localhost:5173`), or `*`; anything else is refused with the option's name. */
function origins(list: readonly string[]): string[] {
  return list.map((o) => {
    if (o === '*') return o
    let url: URL | null = null
    try {
      url = new URL(o)
    } catch {
      // not a URL: refused below
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.search || url.hash || !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]+\/?$/i.test(o))
      throw new ReplayOptionError('allowOrigins', `${JSON.stringify(o)} is not an origin: give scheme://host[:port], such as http://localhost:5173, or * for any`)
    return url.origin
  })
}

export const DEFAULT_KEEP_MISSES = 1000

/** The upstream options, checked together: only `record-missing` contacts an upstream, and it needs one. */
function upstreamRules(rules: ReplayRules): Pick<ResolvedRules, 'mode' | 'upstream' | 'upstreamCaFiles' | 'insecureUpstream'> {
  const mode = rules.mode ?? 'replay'
  if (!REPLAY_MODES.includes(mode)) throw new ReplayOptionError('mode', `must be ${REPLAY_MODES.map((m) => JSON.stringify(m)).join(' or ')}, not ${JSON.stringify(mode)}`)
  const upstreamCaFiles = Object.freeze([...(rules.upstreamCaFiles ?? [])])
  const insecureUpstream = rules.insecureUpstream ?? false
  if (mode === 'replay') {
    const given = rules.upstream ? 'upstream' : upstreamCaFiles.length ? 'upstreamCaFiles' : insecureUpstream ? 'insecureUpstream' : null
    if (given) throw new ReplayOptionError(given, 'is used only by modes "record-missing" (--record-missing) and "refresh" (--refresh): plain replay never contacts an upstream')
    return { mode, upstream: null, upstreamCaFiles, insecureUpstream }
  }
  if (!rules.upstream)
    throw new ReplayOptionError('upstream', mode === 'refresh' ? 'mode "refresh" needs the upstream to send every request to (--upstream URL)' : 'mode "record-missing" needs the upstream to forward misses to (--upstream URL)')
  if (insecureUpstream && upstreamCaFiles.length) throw new ReplayOptionError('upstreamCaFiles', 'contradicts insecureUpstream (--insecure-upstream): give one or the other')
  return { mode, upstream: upstreamOrigin(rules.upstream, (p) => new ReplayOptionError('upstream', p)), upstreamCaFiles, insecureUpstream }
}

export function resolveRules(rules: ReplayRules = {}): ResolvedRules {
  const latency = rules.latency ?? 'none'
  if (latency !== 'recorded' && latency !== 'none')
    throw new ReplayOptionError('latency', `must be "recorded" or "none", not ${JSON.stringify(latency)}`)
  const keepMisses = rules.keepMisses ?? DEFAULT_KEEP_MISSES
  if (!Number.isSafeInteger(keepMisses) || keepMisses < 0)
    throw new ReplayOptionError('keepMisses', `must be a whole number of misses (0 or more), not ${JSON.stringify(keepMisses)}`)
  const allowOrigins = Object.freeze(origins(rules.allowOrigins ?? []))
  const ignoreFields = Object.freeze([...(rules.ignoreFields ?? DEFAULT_FIELDS)])
  const echoFields = Object.freeze([...(rules.echoFields ?? DEFAULT_FIELDS)])
  const match: MatchRules = Object.freeze({
    ignoreFields: Object.freeze(paths('ignoreFields', ignoreFields)),
    matchIdentity: rules.matchIdentity ?? false,
    matchHost: rules.matchHost ?? false,
  })
  return Object.freeze({
    strict: rules.strict ?? false,
    ignoreFields,
    echoFields,
    match,
    echoPaths: Object.freeze(paths('echoFields', echoFields)),
    latency,
    allowOrigins: allowOrigins.includes('*') ? Object.freeze(['*']) : allowOrigins,
    keepMisses,
    log: rules.log ?? null,
    ...upstreamRules(rules),
    trustOwnCA: rules.trustOwnCA ?? true,
    home: rules.home ?? reltapeHome(),
  })
}

/** The rules in force, in words, for the start banner. */
export function describeRules(r: ResolvedRules): string[] {
  return [
    `ignore fields: ${r.ignoreFields.join(', ') || '(none)'}`,
    `echo fields: ${r.echoFields.join(', ') || '(none)'}`,
    `when a request's recordings run out: ${r.mode === 'refresh' ? 'not applicable: every request is answered live' : r.strict ? (r.mode === 'record-missing' ? 'forward it and record the answer (--strict)' : 'miss (--strict)') : 'answer its last recording again'}`,
    `identity in the key: ${r.match.matchIdentity ? 'yes' : 'no'}; host in the key: ${r.match.matchHost ? 'yes' : 'no'}`,
    `latency: ${r.latency === 'recorded' ? 'as recorded' : 'none'}`,
    ...(r.mode === 'record-missing'
      ? [`misses: forwarded to ${r.upstream}, answered live and recorded into the session (--record-missing)${r.insecureUpstream ? '; its TLS certificate is NOT verified' : ''}`]
      : []),
    ...(r.mode === 'refresh'
      ? [`every request: sent to ${r.upstream} and answered live; the session is replaced by the live answers when replay stops, the old one kept as <name>.before-refresh.json (--refresh)${r.insecureUpstream ? '; its TLS certificate is NOT verified' : ''}`]
      : []),
    `pages allowed to read answers (CORS): ${r.allowOrigins.includes('*') ? 'any origin (--allow-origin *)' : ['the recorded origins', 'loopback', ...r.allowOrigins].join(', ')}`,
  ]
}
