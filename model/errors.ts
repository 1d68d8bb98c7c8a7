/**
 * The error registry: every failure reltape reports on purpose has a stable code (UPPER_SNAKE) that a user can
 * search for, a message built from typed parameters, the CLI's exit code and the HTTP status the viewer's API and
 * replay answer with. The CLI, the recorder, replay, the viewer and the sandbox all throw from here.
 * Pure TypeScript (no Node types): the viewer's UI may import it.
 */

/** The CLI's exit codes: 0 done, 1 runtime error, 2 usage error (a command, flag or option given wrongly). */
export const EXIT = { OK: 0, RUNTIME: 1, USAGE: 2 } as const
export type ExitCode = 1 | 2

export type ErrorSpec<P> = {
  /** What the CLI exits with. */
  exit: ExitCode
  /** What the viewer's API (and replay, for the codes it answers) sends. */
  status: number
  /** One line for the README's table. */
  description: string
  /** The message, from the error's parameters. */
  message: (params: P) => string
}

const spec = <P>(s: ErrorSpec<P>): ErrorSpec<P> => s

const quote = (s: string) => JSON.stringify(s)

/** Every code, in the order the README lists them. */
export const ERRORS = {
  USAGE: spec({
    exit: 2,
    status: 400,
    description: 'a command, flag or argument given wrongly; `--help` shows the right form',
    message: (p: { problem: string }) => p.problem,
  }),
  OPTION_INVALID: spec({
    exit: 2,
    status: 400,
    description: 'a recorder or replay option has a value it cannot use; the message names the option and its flag',
    message: (p: { option: string; flag?: string; problem: string }) => `${p.option}${p.flag ? ` (${p.flag})` : ''}: ${p.problem}`,
  }),
  SESSION_NAME_INVALID: spec({
    exit: 2,
    status: 400,
    description: 'a session name that is not a plain name (empty, a path, a leading dot)',
    message: (p: { problem: string }) => p.problem,
  }),
  SESSION_NOT_FOUND: spec({
    exit: 1,
    status: 404,
    description: 'no such session in the sessions directory; the message lists the ones there',
    message: (p: { session: string; dir: string; available: readonly string[] }) =>
      `no session ${quote(p.session)} in ${p.dir}` +
      (p.available.length ? `; sessions there: ${p.available.slice(0, 20).join(', ')}${p.available.length > 20 ? ', …' : ''}` : '; it holds no sessions'),
  }),
  SESSION_INVALID: spec({
    exit: 1,
    status: 422,
    description: 'a session file that is not a valid session; the message names the file and where',
    message: (p: { where: string; path: string; problem: string }) => `${p.where}: ${p.path}: ${p.problem}`,
  }),
  SESSION_EXISTS: spec({
    exit: 1,
    status: 409,
    description: '`reltape import` (or `verify --save`) was to create a session that already exists; nothing was written',
    message: (p: { session: string; dir: string; instead?: string }) =>
      `a session ${quote(p.session)} already exists in ${p.dir}; ${p.instead ?? 'import into a new one with --session NAME'} (nothing was written)`,
  }),
  JOURNAL_INVALID: spec({
    exit: 1,
    status: 422,
    description: 'a journal line that is not a journal entry; the message names the file and the line',
    message: (p: { file: string; line: number; problem: string }) => `${p.file}:${p.line}: ${p.problem}`,
  }),
  HAR_INVALID: spec({
    exit: 1,
    status: 422,
    description: 'a HAR file (or Playwright HAR zip) reltape cannot read; the message names the file and the JSON path',
    message: (p: { file: string; path: string; problem: string }) => `${p.file}: ${p.path ? `${p.path}: ` : ''}${p.problem}`,
  }),
  SESSION_LOCKED: spec({
    exit: 1,
    status: 409,
    description: 'another live process is writing the session',
    message: (p: { lockFile: string; holder: { pid: number; purpose: string; since: string } }) =>
      `session is being written by another process (pid ${p.holder.pid}, ${p.holder.purpose}, since ${p.holder.since}); ` +
      `stop it first, or record into another session. Lock: ${p.lockFile}`,
  }),
  FILE_IS_LINK: spec({
    exit: 1,
    status: 500,
    description: 'a file reltape was about to create (a journal, a temporary file) already exists there as a symbolic link; nothing was written through it',
    message: (p: { file: string }) =>
      `${p.file} is a symbolic link; reltape does not write through links (one planted there could send recorded tokens elsewhere): remove it`,
  }),
  SESSION_DIR_UNWRITABLE: spec({
    exit: 1,
    status: 500,
    description: 'the sessions directory cannot be written',
    message: (p: { dir: string; reason: string }) => `cannot write sessions in ${p.dir}: ${p.reason}; choose another directory with --dir or RELTAPE_DIR`,
  }),
  RECORDING_STOPPED: spec({
    exit: 1,
    status: 507,
    description: 'the journal could not be written (a full disk, a quota): the recorder goes on passing traffic but records nothing more; what it recorded before is kept',
    message: (p: { journal: string; reason: string; recorded: number }) =>
      `cannot write ${p.journal}: ${p.reason}. Recording stopped after ${p.recorded} exchange(s) this run, which are kept; ` +
      'the proxy goes on passing traffic, but nothing more is recorded. Free some space, then stop and start recording again',
  }),
  SESSION_WRITE_FAILED: spec({
    exit: 1,
    status: 507,
    description: 'the session file could not be written when recording stopped; its journal keeps every recorded exchange, and the next opener folds it in',
    message: (p: { file: string; journal: string; reason: string }) =>
      `cannot write ${p.file}: ${p.reason}. Every recorded exchange is kept in ${p.journal}; ` +
      'once there is room, the next `reltape record` of this session (or any opener of it) completes the session from it',
  }),
  PORT_IN_USE: spec({
    exit: 1,
    status: 500,
    description: 'the port a server (recorder, replay, viewer, sandbox) was to listen on is taken',
    message: (p: { host: string; port: number }) =>
      `${p.host}:${p.port} is already in use by another process; stop it, or choose another port with --port (0 picks a free one)`,
  }),
  LISTEN_FAILED: spec({
    exit: 1,
    status: 500,
    description: 'a server could not listen for another reason (an address not on this machine, a privileged port)',
    message: (p: { host: string; port: number; reason: string }) => `cannot listen on ${p.host}:${p.port}: ${p.reason}`,
  }),
  BROWSER_NOT_FOUND: spec({
    exit: 1,
    status: 500,
    description: '`record --launch` found no Chromium',
    message: (p: { executable: string }) => `Chromium not found at ${p.executable}; install it (apt-get install chromium) or set CHROMIUM_PATH`,
  }),
  CONFIG_INVALID: spec({
    exit: 1,
    status: 500,
    description: '`reltape.config.json` is not what the viewer reads; the message names the file and the field',
    message: (p: { file: string; problem: string }) => `${p.file}: ${p.problem}`,
  }),
  EXCHANGE_NOT_FOUND: spec({
    exit: 1,
    status: 404,
    description: 'the session holds no exchange of that number',
    message: (p: { session: string; seq: number; count: number }) => `session ${quote(p.session)} has no exchange ${p.seq} (it holds ${p.count})`,
  }),
  BODY_NOT_FOUND: spec({
    exit: 1,
    status: 404,
    description: 'the exchange has no response body (a transport failure)',
    message: (p: { session: string; seq: number; why: string }) => `exchange ${p.seq} of ${quote(p.session)} has no response (${p.why})`,
  }),
  ENTITY_NOT_FOUND: spec({
    exit: 1,
    status: 404,
    description: 'no call of the session carries or refers to that entity (`Type#Id`)',
    message: (p: { session: string; entity: string }) => `no call of session ${quote(p.session)} carries or refers to ${p.entity}`,
  }),
  HOST_NOT_ALLOWED: spec({
    exit: 1,
    status: 421,
    description: 'a viewer request for a Host other than loopback or the bound address (DNS rebinding guard)',
    message: (p: { bound: string; host: string }) =>
      `the viewer answers only requests for localhost, 127.0.0.1, [::1] or ${p.bound}, not Host ${quote(p.host)} (a guard against DNS rebinding)`,
  }),
  VIEWER_TOKEN_REQUIRED: spec({
    exit: 1,
    status: 401,
    description: "a viewer API call without this run's access token, or with another; open the link the viewer printed",
    message: (p: { problem: 'missing' | 'wrong' }) =>
      (p.problem === 'missing'
        ? "the viewer's API needs this run's access token"
        : "this is not the viewer's access token (a new one is made each time the viewer starts)") +
      ': open the link that `reltape view` (or `reltape demo`) printed when it started; it ends in ?token=…',
  }),
  NOT_FOUND: spec({
    exit: 1,
    status: 404,
    description: 'no viewer API route for that method and path',
    message: (p: { method: string; path: string }) => `no route for ${p.method} ${p.path}`,
  }),
  REPLAY_MISS: spec({
    exit: 1,
    status: 404,
    description: "no recording answers the request; the envelope's `Error.Code` is `ReplayMiss` and names the nearest",
    message: (p: { detail: string }) => p.detail,
  }),
  REPLAY_FAILED: spec({
    exit: 1,
    status: 500,
    description: "replay failed while answering (a bug); the envelope's `Error.Code` is `ReplayError`",
    message: (p: { method: string; url: string; reason: string }) => `reltape replay failed on ${p.method} ${p.url}: ${p.reason}`,
  }),
  REPLAY_UPSTREAM_FAILED: spec({
    exit: 1,
    status: 502,
    description: "`replay --record-missing` forwarded a request no recording answers, and the upstream gave no answer (down, TLS, timeout); nothing was recorded; the envelope's `Error.Code` is `ReplayUpstreamFailed`",
    message: (p: { method: string; path: string; upstream: string; code: string; reason: string }) =>
      `no recording answers ${p.method} ${p.path}, and the upstream ${p.upstream} did not answer it (${p.code}: ${p.reason}); nothing was recorded`,
  }),
  REPLAY_HOST_NOT_ALLOWED: spec({
    exit: 1,
    status: 421,
    description: "a replay request for a Host other than loopback, the bound address or a host the session recorded (DNS rebinding guard); the envelope's `Error.Code` is `ReplayHostNotAllowed`",
    message: (p: { bound: string; host: string }) =>
      `replay answers only requests for localhost, 127.0.0.1, [::1], ${p.bound} or a host the session recorded, not Host ${quote(p.host)} ` +
      '(a guard against DNS rebinding); a client using replay as its HTTP proxy (absolute URLs) is not affected',
  }),
  TOKEN_REQUIRED: spec({
    exit: 2,
    status: 400,
    description: '`reltape verify` needs a live token it does not have (a session recorded with `--redact` stores `<identity-N>`); give it with `--token ALIAS=TOKEN`; nothing was sent',
    message: (p: { session: string; missing: readonly { alias: string; seq: number }[] }) =>
      `session ${quote(p.session)} holds no usable token for ${p.missing.map((m) => `${m.alias} (first used by #${m.seq})`).join(', ')}: ` +
      `it was recorded with --redact, so its tokens are stored as <identity-N>; give each one with --token ALIAS=TOKEN (nothing was sent)`,
  }),
  VERIFY_NOT_CONFIRMED: spec({
    exit: 2,
    status: 400,
    description: '`reltape verify` was not confirmed (declined, or standard input is not a terminal and there was no `--yes`); nothing was sent',
    message: (p: { why: string }) => `not sending anything: ${p.why}`,
  }),
  DEMO_FAILED: spec({
    exit: 1,
    status: 500,
    description: "`reltape demo`'s scripted story failed; what was recorded is kept",
    message: (p: { reason: string }) => `the demo story failed: ${p.reason}`,
  }),
  INTERNAL: spec({
    exit: 1,
    status: 500,
    description: 'anything else (a bug, an I/O error); `RELTAPE_DEBUG=1` shows the stack',
    message: (p: { reason: string }) => p.reason,
  }),
} as const

export type ErrorCode = keyof typeof ERRORS
export type ErrorParams<C extends ErrorCode> = (typeof ERRORS)[C] extends ErrorSpec<infer P> ? P : never

/** The message a code's template gives for these parameters. */
export function errorMessage<C extends ErrorCode>(code: C, params: ErrorParams<C>): string {
  return (ERRORS[code].message as (p: ErrorParams<C>) => string)(params)
}

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, code)
}

/**
 * The base of every error reltape throws on purpose: a registry code, its message, exit code and HTTP status.
 * Subclasses (SessionNotFoundError, PortInUseError, …) add the fields their callers use.
 */
export class ReltapeError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C
  readonly exit: ExitCode
  readonly status: number
  constructor(code: C, params: ErrorParams<C>, options?: { cause?: unknown }) {
    super(errorMessage(code, params), options)
    this.name = 'ReltapeError'
    this.code = code
    this.exit = ERRORS[code].exit
    this.status = ERRORS[code].status
  }
}

/** What the registry says about any thrown value: its code (null when it has none there), exit code and status. */
export function errorInfo(e: unknown): { code: ErrorCode | null; exit: ExitCode; status: number } {
  // By code, not only by class: an error from another copy of this module (the built and the source one) counts too.
  const code = e instanceof ReltapeError ? e.code : (e as { code?: unknown } | null)?.code
  if (isErrorCode(code)) return { code, exit: ERRORS[code].exit, status: ERRORS[code].status }
  return { code: null, exit: ERRORS.INTERNAL.exit, status: ERRORS.INTERNAL.status }
}

/** The CLI's exit code for a thrown value: the registry's, else 1. */
export function exitCodeOf(e: unknown): ExitCode {
  return errorInfo(e).exit
}

/** The HTTP status for a thrown value: the registry's, else 500. */
export function httpStatusOf(e: unknown): number {
  return errorInfo(e).status
}

/** The port a server was to listen on is taken. */
export class PortInUseError extends ReltapeError<'PORT_IN_USE'> {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super('PORT_IN_USE', { host, port })
    this.name = 'PortInUseError'
  }
}

/** A server could not listen for a reason other than a taken port. */
export class ListenError extends ReltapeError<'LISTEN_FAILED'> {
  constructor(
    readonly host: string,
    readonly port: number,
    readonly reason: string,
  ) {
    super('LISTEN_FAILED', { host, port, reason })
    this.name = 'ListenError'
  }
}

/** The error for a failed `listen`: PORT_IN_USE for EADDRINUSE, else LISTEN_FAILED with the system's reason. */
export function listenError(host: string, port: number, cause: { code?: unknown; message?: string }): PortInUseError | ListenError {
  if (cause.code === 'EADDRINUSE') return new PortInUseError(host, port)
  return new ListenError(host, port, cause.message ?? String(cause.code ?? 'unknown error'))
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
}

/** The reason phrase of the statuses reltape answers with (`Error` for others). */
export function reasonPhrase(status: number): string {
  return REASONS[status] ?? 'Error'
}
