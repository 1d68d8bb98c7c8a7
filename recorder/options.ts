/**
 * The recorder's options: one typed object, defaults resolved once, validated, frozen (as replay/options.ts does
 * for replay). A bad value is OPTION_INVALID naming the option and its `reltape record` flag, thrown before
 * anything is created (the CA, the session, the port).
 */
import { ReltapeError } from '../model/errors.js'
import { checkSessionName, type Exchange } from '../model/session.js'
import { defaultSessionName, reltapeHome, SessionNameError, sessionsDir } from '../store/paths.js'
import { CaFileError, DEFAULT_UPSTREAM_TIMEOUT_MS, readCaFiles, upstreamOrigin } from '../store/upstream-options.js'

export const DEFAULT_PORT = 8000
export const DEFAULT_HOST = '127.0.0.1'
export const DEFAULT_MAX_BODY = 50 * 1024 * 1024
export { DEFAULT_UPSTREAM_TIMEOUT_MS }

export type RecorderOptions = {
  /** Session name; an existing session is continued. @default the local date and time, e.g. `2026-11-24_23-49-19` */
  session?: string
  /** Sessions directory. @default $RELTAPE_DIR, else ./sessions */
  dir?: string
  /** reltape's home (the CA). @default $RELTAPE_HOME, else ~/.reltape */
  home?: string
  /** The proxy's port; 0 picks a free port. @default 8000 */
  port?: number
  /** The address the proxy binds. @default '127.0.0.1' */
  host?: string
  /** Reverse mode: the upstream origin (no path) every request goes to. @default null (a forward proxy) */
  upstream?: string | null
  /** PEM files of extra CAs to trust upstream, besides the system's. @default [] */
  upstreamCaFiles?: readonly string[]
  /** Trust reltape's own CA upstream too (dev servers and the sandbox use certificates it issued). @default true */
  trustOwnCA?: boolean
  /**
   * Opt-in, and process-wide: while the recorder runs, `tls.createSecureContext` is wrapped so that the upstream
   * trust list (the system's CAs plus the extra ones) becomes one TLS context reused for every upstream
   * connection, instead of a certificate store built per connection (several times the throughput through an
   * extra upstream CA). reltape's CLI turns it on; code that imports reltape gets no patched built-in unless it
   * asks. Starting Node with `NODE_EXTRA_CA_CERTS` naming the extra CAs gives the same speed with no wrapping.
   * @default false
   */
  reuseTlsContexts?: boolean
  /**
   * Opt-in, and process-wide for the moment the proxy starts: mockttp 4 cannot listen on a chosen address, so while
   * it starts, a `listen(port)` in this process is given `host`, and the proxy listens on that address alone.
   * Without it (the default for code that imports reltape, which gets no patched prototype), the proxy listens on
   * every interface and closes at once every connection `host` would not have let in (for a loopback host, one that
   * does not come from loopback; for another, one that did not arrive on its address).
   * reltape's CLI turns it on.
   * @default false
   */
  bindHostExactly?: boolean
  /** Turn upstream TLS verification off (contradicts `upstreamCaFiles`). @default false */
  insecureUpstream?: boolean
  /** Also record `host/path` matching these globs (a leading `/` matches the path only). @default [] */
  include?: readonly string[]
  /** Never record `host/path` matching these globs. @default [] */
  exclude?: readonly string[]
  /** Record everything, not only API traffic. @default false */
  all?: boolean
  /** Replace tokens with `<identity-N>` in the stored exchanges. @default false */
  redact?: boolean
  /** Bodies over this many bytes are stored cut (the client still gets them whole). @default 50 MB */
  maxBody?: number
  /** The upstream's time to answer before the exchange is recorded as TIMEOUT and the client's connection closed; 0: none. @default 300 s */
  upstreamTimeoutMs?: number
  /** The tool string stored in the session. @default 'reltape' */
  tool?: string
  /**
   * Each exchange, with its screen line, as it is journaled. `recorded` is false for one answered after recording
   * stopped (RECORDING_STOPPED: a journal that could not be written); its line says so. @default none
   */
  onExchange?: (exchange: Exchange, line: string, recorded: boolean) => void
  /** Notices for the screen (a client that does not trust the CA, garbage on the port, …). @default console.error */
  log?: (message: string) => void
  /** Problems that do not stop recording. @default `log` */
  warn?: (message: string) => void
}

/** The options after defaults and validation; the upstream CA files are read once, here. */
export type ResolvedRecorderOptions = Readonly<{
  session: string
  dir: string
  home: string
  port: number
  host: string
  mode: 'forward' | 'reverse'
  /** The upstream's origin in reverse mode, else null. */
  upstream: string | null
  upstreamCaFiles: readonly string[]
  /** The PEM text of each of `upstreamCaFiles`. */
  upstreamCAs: readonly string[]
  trustOwnCA: boolean
  reuseTlsContexts: boolean
  bindHostExactly: boolean
  insecureUpstream: boolean
  include: readonly string[]
  exclude: readonly string[]
  all: boolean
  redact: boolean
  maxBody: number
  upstreamTimeoutMs: number
  tool: string
  onExchange: ((exchange: Exchange, line: string, recorded: boolean) => void) | null
  log: (message: string) => void
  warn: (message: string) => void
}>

/** The `reltape record` flag of each option, for messages. */
const FLAGS: Partial<Record<keyof RecorderOptions, string>> = {
  session: '--session',
  dir: '--dir',
  port: '--port',
  host: '--host',
  upstream: '--upstream',
  upstreamCaFiles: '--upstream-ca',
  insecureUpstream: '--insecure-upstream',
  include: '--include',
  exclude: '--exclude',
  maxBody: '--max-body',
  upstreamTimeoutMs: '--upstream-timeout',
}

/** A bad option value: OPTION_INVALID (exit 2), naming the option and the CLI's flag for it. */
export class RecorderOptionError extends ReltapeError<'OPTION_INVALID'> {
  constructor(
    readonly option: keyof RecorderOptions,
    problem: string,
  ) {
    super('OPTION_INVALID', { option, flag: FLAGS[option], problem })
    this.name = 'RecorderOptionError'
  }
}

/** The upstream given to reverse mode: an origin, no path (as replay and verify take theirs). */
function parseUpstream(upstream: string): string {
  return upstreamOrigin(upstream, (problem) => new RecorderOptionError('upstream', problem))
}

function integer(option: 'port' | 'maxBody' | 'upstreamTimeoutMs', value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) throw new RecorderOptionError(option, `must be ${what}, not ${String(value)}`)
  return value
}

async function readCAs(files: readonly string[]): Promise<string[]> {
  try {
    return await readCaFiles(files)
  } catch (e) {
    throw e instanceof CaFileError ? new RecorderOptionError('upstreamCaFiles', e.message) : e
  }
}

const frozen = <T>(list: readonly T[] | undefined): readonly T[] => Object.freeze([...(list ?? [])])

/** Applies the defaults, checks every value and reads the upstream CA files; throws RecorderOptionError naming the option. */
export async function resolveRecorderOptions(options: RecorderOptions = {}): Promise<ResolvedRecorderOptions> {
  const session = options.session ?? defaultSessionName()
  const nameProblem = checkSessionName(session)
  if (nameProblem) throw new SessionNameError(nameProblem)
  const host = options.host ?? DEFAULT_HOST
  if (typeof host !== 'string' || host === '') throw new RecorderOptionError('host', 'must be an address such as 127.0.0.1')
  const upstream = options.upstream ? parseUpstream(options.upstream) : null
  const upstreamCaFiles = frozen(options.upstreamCaFiles)
  const insecureUpstream = options.insecureUpstream ?? false
  if (insecureUpstream && upstreamCaFiles.length)
    throw new RecorderOptionError('upstreamCaFiles', 'contradicts insecureUpstream (--insecure-upstream): give one or the other')
  const log = options.log ?? ((m: string) => console.error(m))
  return Object.freeze({
    session,
    dir: sessionsDir(options.dir),
    home: options.home ?? reltapeHome(),
    port: integer('port', options.port ?? DEFAULT_PORT, 0, 65535, 'a whole number from 0 to 65535'),
    host,
    mode: upstream ? 'reverse' : 'forward',
    upstream,
    upstreamCaFiles,
    upstreamCAs: Object.freeze(await readCAs(upstreamCaFiles)),
    trustOwnCA: options.trustOwnCA ?? true,
    reuseTlsContexts: options.reuseTlsContexts ?? false,
    bindHostExactly: options.bindHostExactly ?? false,
    insecureUpstream,
    include: frozen(options.include),
    exclude: frozen(options.exclude),
    all: options.all ?? false,
    redact: options.redact ?? false,
    maxBody: integer('maxBody', options.maxBody ?? DEFAULT_MAX_BODY, 1, Number.MAX_SAFE_INTEGER, 'a whole number of bytes, at least 1'),
    upstreamTimeoutMs: integer('upstreamTimeoutMs', options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS, 0, 2 ** 31 - 1, 'a whole number of milliseconds (0: no timeout)'),
    tool: options.tool ?? 'reltape',
    onExchange: options.onExchange ?? null,
    log,
    warn: options.warn ?? log,
  })
}
