/**
 * `reltape verify`'s options: one typed object, defaults resolved once, validated, frozen (as replay/options.ts
 * does). A bad value is OPTION_INVALID naming the option and its flag, thrown before anything is read or sent.
 */
import { ReltapeError } from '../model/errors.js'
import { parseFieldPath, type FieldPath } from '../model/match.js'
import { checkSessionName } from '../model/session.js'
import { reltapeHome, SessionNameError, sessionsDir } from '../store/paths.js'
import { CaFileError, DEFAULT_UPSTREAM_TIMEOUT_MS, ownCaPem, readCaFiles, upstreamOrigin } from '../store/upstream-options.js'

export const MAX_CONCURRENCY = 64

export type VerifyOptions = {
  /** The session to send again: a name in `dir` or a path to a session file. */
  session: string
  /** The sessions directory. @default $RELTAPE_DIR, else ./sessions */
  dir?: string
  /** The live API's origin (`https://api.example`, no path): every call goes there, with its recorded path and query. */
  upstream: string
  /** PEM files of extra CAs to trust upstream, besides the system's. @default [] */
  upstreamCaFiles?: readonly string[]
  /** Turn upstream TLS verification off (contradicts `upstreamCaFiles`). @default false */
  insecureUpstream?: boolean
  /** Trust reltape's own CA upstream too, when `home` has one (the sandbox and dev servers use it). @default true */
  trustOwnCA?: boolean
  /** reltape's home, where its CA is. @default $RELTAPE_HOME, else ~/.reltape */
  home?: string
  /**
   * Live tokens by identity alias (`identity-1`): each call of that identity is sent with it instead of the recorded
   * one. A session recorded with `--redact` stores `<identity-N>` in place of tokens and needs one per identity used.
   * @default {}
   */
  tokens?: Readonly<Record<string, string>>
  /** Save the live exchanges as a new session by this name. @default null (nothing is written) */
  save?: string | null
  /** Calls in flight at once (still started in seq order). @default 1: a session is a story */
  concurrency?: number
  /** Response fields left out of the comparison (diff's path syntax), besides `LocalId`, which always is. @default [] */
  ignoreFields?: readonly string[]
  /** The upstream's time to answer before a call is a TIMEOUT. @default 300000 */
  upstreamTimeoutMs?: number
}

export type ResolvedVerifyOptions = Readonly<{
  session: string
  dir: string
  upstream: string
  insecureUpstream: boolean
  /** The PEM texts trusted upstream besides the system's (the files', then reltape's own CA). */
  caPems: readonly string[]
  tokens: Readonly<Record<string, string>>
  save: string | null
  concurrency: number
  ignore: readonly FieldPath[]
  upstreamTimeoutMs: number
}>

const FLAGS: Partial<Record<keyof VerifyOptions, string>> = {
  upstream: '--upstream',
  upstreamCaFiles: '--upstream-ca',
  insecureUpstream: '--insecure-upstream',
  tokens: '--token',
  save: '--save',
  concurrency: '--concurrency',
  ignoreFields: '--ignore-field',
}

/** A bad option value: OPTION_INVALID (exit 2), naming the option and the CLI's flag for it. */
export class VerifyOptionError extends ReltapeError<'OPTION_INVALID'> {
  constructor(
    readonly option: keyof VerifyOptions,
    problem: string,
  ) {
    super('OPTION_INVALID', { option, flag: FLAGS[option], problem })
    this.name = 'VerifyOptionError'
  }
}

/** A token as it can travel in a header or cookie: visible ASCII, without separators. */
const TOKEN = /^[\x21-\x7e]+$/

function checkTokens(tokens: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const [alias, token] of Object.entries(tokens)) {
    if (!/^[\w.-]+$/.test(alias)) throw new VerifyOptionError('tokens', `${JSON.stringify(alias)} is not an identity alias such as identity-1`)
    if (typeof token !== 'string' || !TOKEN.test(token) || /[;,"\\]/.test(token))
      throw new VerifyOptionError('tokens', `the token for ${alias} must be printable ASCII without spaces, ; , " or \\`)
  }
  return Object.freeze({ ...tokens })
}

export async function resolveVerifyOptions(options: VerifyOptions): Promise<ResolvedVerifyOptions> {
  if (typeof options.session !== 'string' || options.session === '') throw new VerifyOptionError('session', 'give the session to verify')
  const upstream = upstreamOrigin(options.upstream, (p) => new VerifyOptionError('upstream', p))
  const files = options.upstreamCaFiles ?? []
  const insecureUpstream = options.insecureUpstream ?? false
  if (insecureUpstream && files.length) throw new VerifyOptionError('upstreamCaFiles', 'contradicts insecureUpstream (--insecure-upstream): give one or the other')
  const concurrency = options.concurrency ?? 1
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY)
    throw new VerifyOptionError('concurrency', `must be a whole number from 1 to ${MAX_CONCURRENCY}, not ${String(concurrency)}`)
  const timeout = options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS
  if (!Number.isInteger(timeout) || timeout < 1) throw new VerifyOptionError('upstreamTimeoutMs', `must be a whole number of milliseconds, not ${String(timeout)}`)
  const save = options.save ?? null
  if (save !== null) {
    const problem = checkSessionName(save)
    if (problem) throw new SessionNameError(problem)
  }
  const ignore = (options.ignoreFields ?? []).map((p) => {
    try {
      return parseFieldPath(p)
    } catch (e) {
      throw new VerifyOptionError('ignoreFields', (e as Error).message)
    }
  })
  let caPems: string[]
  try {
    caPems = await readCaFiles(files)
  } catch (e) {
    if (e instanceof CaFileError) throw new VerifyOptionError('upstreamCaFiles', e.message)
    throw e
  }
  const own = !insecureUpstream && (options.trustOwnCA ?? true) ? await ownCaPem(options.home ?? reltapeHome()) : null
  if (own) caPems.push(own)
  return Object.freeze({
    session: options.session,
    dir: sessionsDir(options.dir),
    upstream,
    insecureUpstream,
    caPems: Object.freeze(caPems),
    tokens: checkTokens(options.tokens ?? {}),
    save,
    concurrency,
    ignore: Object.freeze(ignore),
    upstreamTimeoutMs: timeout,
  })
}
