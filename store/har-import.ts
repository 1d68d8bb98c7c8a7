/**
 * HAR → session. Entries are read one at a time (store/har-scan.ts), checked (model/har.ts), judged by the
 * recorder's traffic filter, given identities and redacted as the recorder does, and handed to a sink (the session
 * file's writer). Every entry becomes an exchange or is counted as left out. `reltape import`, and the private copies
 * through which replay and the viewer read a `.har` (store/har-view.ts), all come here.
 *
 * Into a sessions directory, the session is written in a hidden folder beside the others and linked into place
 * only when the whole HAR was read: a HAR that turns out invalid at its last entry leaves no session behind, and
 * no reader ever sees half an import. Being whole before anyone sees it, it is written in one pass with its index
 * (store/whole-session-writer.ts), without the journal a recording needs.
 */
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, linkSync } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { cookieValue, findToken, SESSION_COOKIE } from '../model/auth.js'
import { ReltapeError } from '../model/errors.js'
import { checkHarEntry, creatorOf, errorOf, logFactsOf, type HarEntryIn, type ReltapeLogFacts } from '../model/har.js'
import { headerValue } from '../model/headers.js'
import type { Exchange, HeaderPair, Identity, RecordedRequest, RecordedResponse, Recording } from '../model/session.js'
import { TrafficFilter, type FilterOptions } from './traffic-filter.js'
import { redactExchange, Secrets } from './redact.js'
import type { KnownBodyText } from './exchange-text.js'
import { bodyFromHar, type BodyContext } from './har-body.js'
import { removeLeftovers } from './lock.js'
import { scanHar } from './har-scan.js'
import { openHarSource, type HarSource } from './har-source.js'
import { defaultSessionName, sessionPaths } from './paths.js'
import { ensureDir, syncDir } from './private-file.js'
import { tokenHash } from './token-hash.js'
import { WholeSessionWriter } from './whole-session-writer.js'

/** `reltape import` would create a session that is already there. */
export class SessionExistsError extends ReltapeError<'SESSION_EXISTS'> {
  constructor(
    readonly session: string,
    readonly dir: string,
  ) {
    super('SESSION_EXISTS', { session, dir })
    this.name = 'SessionExistsError'
  }
}

export type HarImportOptions = {
  /** What is imported: the recorder's filter and its flags. @default API traffic only (`{ all: false }`) */
  filter?: FilterOptions
  /** Replace each token with `<identity-N>` in what is stored, as `record --redact` does. @default false */
  redact?: boolean
  /** Standard input, for the file `-`. @default process.stdin */
  stdin?: NodeJS.ReadableStream
}

export type HarImportCounts = {
  /** Entries in the HAR. */
  entries: number
  /** Exchanges written. */
  exchanges: number
  /** Entries the filter left out (`entries = exchanges + leftOut`). */
  leftOut: number
  /** What was read but not as it should have been (a body the HAR omitted, a body that does not decode, …). */
  warnings: string[]
}

export type HarImportResult = HarImportCounts & { session: string }

/** Where imported exchanges go: a session file, or memory. */
export type ExchangeSink = {
  nextSeq(): number
  identityFor(token: string, label?: string | null): Identity
  /** `known`: `JSON.stringify` of a body's `json`, made already, for a sink that serialises the exchange. */
  append(exchange: Exchange, known: KnownBodyText): void | Promise<void>
}

function urlParts(url: string): { host: string; path: string } {
  try {
    const u = new URL(url)
    return { host: u.host, path: u.pathname }
  } catch {
    return { host: '?', path: '/' }
  }
}

/** The tokens a response hands out (`Set-Cookie: client-session=…`): identities too, as when recording. */
function handedOut(headers: readonly HeaderPair[]): string[] {
  const tokens: string[] = []
  for (const [n, v] of headers) {
    if (n.toLowerCase() !== 'set-cookie') continue
    const token = cookieValue(v.split(';')[0] ?? '', SESSION_COOKIE)
    if (token && token !== 'deleted') tokens.push(token)
  }
  return tokens
}

/** Every token an entry holds: the one its request sends, then those its response hands out. */
function tokensOf(entry: HarEntryIn): string[] {
  const found = findToken(entry.request.headers)
  return [...(found ? [found.token] : []), ...handedOut(entry.response?.headers ?? [])]
}

/** Identities and redaction as the recorder keeps them: an alias per token, in order of first sight. */
class Identities {
  readonly #aliases = new Map<string, string>()
  /** Each token with its alias in brackets, compiled once (not for every exchange redacted). */
  readonly redactions = new Secrets()

  constructor(
    readonly sink: () => ExchangeSink,
    readonly labels: () => ReltapeLogFacts | undefined,
  ) {}

  alias(token: string): string {
    const known = this.#aliases.get(token)
    if (known !== undefined) return known
    // A reltape export names its identities' labels: a token seen again keeps its label.
    const label = this.labels()?.identities.find((i) => i.tokenHash === tokenHash(token))?.label ?? null
    const identity = this.sink().identityFor(token, label)
    this.#aliases.set(token, identity.alias)
    this.redactions.add(token, `<${identity.alias}>`)
    return identity.alias
  }
}

/**
 * Reads a HAR into a sink, opened (with the HAR's creator as the recording tool) when the first exchange is to be
 * written, or at the end when none is.
 * @throws HarFormatError naming the file and the JSON path of what is wrong
 */
export async function importHarInto(source: HarSource, openSink: (recording: Recording) => Promise<ExchangeSink>, options: HarImportOptions = {}): Promise<HarImportCounts> {
  const filter = new TrafficFilter(options.filter)
  const counts: HarImportCounts = { entries: 0, exchanges: 0, leftOut: 0, warnings: [] }
  let tool = 'unknown HAR creator'
  let facts: ReltapeLogFacts | undefined
  let sink: ExchangeSink | null = null
  /** Tokens found by a first look (with --redact), in the order they are first seen. */
  const known: string[] = []
  const ids = new Identities(() => sink!, () => facts)
  const getSink = async (): Promise<ExchangeSink> => {
    if (sink) return sink
    sink = await openSink({ tool, mode: 'import', upstream: null })
    // Identities in the order they are first seen, which is the order the first look found them in.
    for (const t of known) ids.alias(t)
    return sink
  }
  const ctx: BodyContext = { readFile: (name) => source.readFile(name), warn: (m) => counts.warnings.push(m) }
  let lastSeq = 0

  const judge = (entry: HarEntryIn): boolean => {
    const { host, path } = urlParts(entry.request.url)
    const headers = entry.request.headers
    const preflight = entry.request.method === 'OPTIONS' && (headerValue(headers, 'access-control-request-method') !== undefined || entry.resourceType === 'preflight')
    const verdict = filter.judge({
      method: entry.request.method,
      host,
      path,
      requestContentType: headerValue(headers, 'content-type') ?? entry.request.postData?.mimeType,
      accept: headerValue(headers, 'accept'),
      preflight,
    })
    if (verdict !== 'response') return verdict === 'record'
    if (!entry.response) return false
    return filter.judgeResponse(headerValue(entry.response.headers, 'content-type') ?? entry.response.content?.mimeType) === 'record'
  }

  /** The exchange of an entry, and the JSON texts of its bodies that reading them made. */
  const build = async (entry: HarEntryIn, path: string, seq: number): Promise<{ exchange: Exchange; known: KnownBodyText }> => {
    const reqHeaders = entry.request.headers
    const found = findToken(reqHeaders)
    const known: KnownBodyText = {}
    const reqBody = await bodyFromHar(
      entry.request.postData,
      { path: `${path}.request.postData`, headers: reqHeaders, ...(entry.request.bodySize !== undefined ? { declaredSize: entry.request.bodySize } : {}), ...(entry.reltape?.request ? { facts: entry.reltape.request } : {}) },
      ctx,
    )
    known.request = reqBody.jsonText
    const request: RecordedRequest = {
      method: entry.request.method,
      url: entry.request.url,
      httpVersion: entry.request.httpVersion,
      headers: reqHeaders,
      body: reqBody.body,
      auth: found ? { via: found.via, identity: ids.alias(found.token) } : null,
    }
    let response: RecordedResponse | null = null
    if (entry.response) {
      const headers = entry.response.headers
      for (const token of handedOut(headers)) ids.alias(token)
      const resBody = await bodyFromHar(entry.response.content, { path: `${path}.response.content`, headers, ...(entry.reltape?.response ? { facts: entry.reltape.response } : {}) }, ctx)
      known.response = resBody.jsonText
      response = {
        status: entry.response.status,
        statusText: entry.response.statusText,
        headers,
        body: resBody.body,
        contentEncoding: headerValue(headers, 'content-encoding') ?? null,
      }
    }
    const exchange: Exchange = {
      seq,
      id: entry.reltape?.id || randomUUID(),
      startedAt: entry.startedAt,
      durationMs: entry.durationMs,
      request,
      response,
      error: errorOf(entry),
    }
    return { exchange, known }
  }

  // With --redact, a first look collects every token, so that one first seen late (after a login answer that
  // carried it in its body) is redacted everywhere, as the recorder does at its stop. Standard input is read once.
  if (options.redact && source.kind !== 'stdin') {
    await scanHar(source.chunks(), source.where, {
      onEntry(value, index) {
        const entry = checkHarEntry(value, source.where, `log.entries[${index}]`)
        if (judge(entry)) for (const t of tokensOf(entry)) if (!known.includes(t)) known.push(t)
      },
    })
  }

  await scanHar(source.chunks(), source.where, {
    onLogKey(key, value) {
      if (key === 'creator') tool = creatorOf(value)
      else if (key === '_reltape') facts = logFactsOf(value)
    },
    async onEntry(value, index) {
      const path = `log.entries[${index}]`
      const entry = checkHarEntry(value, source.where, path)
      counts.entries++
      if (!judge(entry)) {
        counts.leftOut++
        return
      }
      const s = await getSink()
      // A reltape export keeps its seqs (gaps and all); other HARs are numbered in file order.
      const wanted = entry.reltape?.seq ?? 0
      const seq = wanted > lastSeq ? wanted : s.nextSeq()
      lastSeq = seq
      const built = await build(entry, path, seq)
      // Redaction changes the bodies: their texts are made again from what it leaves.
      if (options.redact) await s.append(redactExchange(built.exchange, ids.redactions), {})
      else await s.append(built.exchange, built.known)
      counts.exchanges++
    },
  })
  await getSink()
  return counts
}

/** A session name from a file's name: what a session name may not hold becomes `-`. */
export function sessionNameFor(stem: string): string {
  const name = stem
    .replace(/[^\p{L}\p{N}._@+-]+/gu, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 200)
  return name || `import-${defaultSessionName()}`
}

const TEMP_PREFIX = '.import-'

/** Removes the hidden folders of imports whose process is gone (a crash mid-import). */
function removeStaleImports(dir: string): void {
  removeLeftovers(dir, (entry) => {
    const m = /^\.import-(\d+)-[0-9a-f]+$/.exec(entry)
    return m ? Number(m[1]) : undefined
  })
}

export type ImportToStoreOptions = HarImportOptions & {
  /** The sessions directory. */
  dir: string
  /** The session to create. @default the HAR file's name without its extension */
  session?: string
}

/**
 * Imports a HAR (`.har`, a Playwright `.zip`, or `-` for standard input) as a new session of the directory.
 * @throws HarFormatError (nothing written), SessionExistsError, SessionNameError
 */
export async function importHar(file: string, options: ImportToStoreOptions): Promise<HarImportResult & { file: string }> {
  const source = await openHarSource(file, options.stdin)
  try {
    const name = options.session ?? sessionNameFor(source.stem || `import-${defaultSessionName()}`)
    const paths = sessionPaths(options.dir, name)
    if (existsSync(paths.file) || existsSync(paths.journal)) throw new SessionExistsError(name, options.dir)
    ensureDir(options.dir)
    removeStaleImports(options.dir)
    const temp = join(options.dir, `${TEMP_PREFIX}${process.pid}-${randomBytes(6).toString('hex')}`)
    await mkdir(temp, { mode: 0o700 })
    const done = sessionPaths(temp, name)
    const opened: { writer?: WholeSessionWriter } = {}
    try {
      const counts = await importHarInto(source, async (recording) => (opened.writer = WholeSessionWriter.create(done, recording)), options)
      // Synced to the disk, and indexed, before it is linked into place.
      await opened.writer!.close()
      try {
        // A link, not a rename: it fails when a session by that name appeared meanwhile, instead of replacing it.
        linkSync(done.file, paths.file)
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new SessionExistsError(name, options.dir)
        throw e
      }
      if (existsSync(done.index)) await rename(done.index, paths.index).catch(() => {})
      syncDir(options.dir)
      return { session: name, file: paths.file, ...counts }
    } finally {
      // After a failure: the half-written session removed with its folder.
      await opened.writer?.discard()
      await rm(temp, { recursive: true, force: true })
    }
  } finally {
    await source.close()
  }
}
