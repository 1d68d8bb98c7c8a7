/**
 * Session → HAR 1.2, written as it is read: one exchange at a time from the session reader, one entry at a time to
 * the output, never the whole HAR as one string. A `.zip` is Playwright's layout: `har.har` plus a `<sha1>.<ext>`
 * file per distinct body, which `routeFromHAR` reads as it reads its own recordings.
 *
 * Entries keep the recorded headers in wire order and case; bodies are the decoded text, as DevTools writes them,
 * base64 for binary. What HAR has no field for (seq, id, identity alias, transport error code, a cut or omitted
 * body) goes under `_reltape`, which import reads back.
 */
import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { Readable, type Writable } from 'node:stream'
import yazl from 'yazl'
import { cookieValue, findToken, identityAlias, SESSION_COOKIE } from '../model/auth.js'
import { harHeaders, harQueryString, harRequestCookies, harResponseCookies, harTimings, httpVersionToHar, type ReltapeEntryFacts, type ReltapeLogFacts } from '../model/har.js'
import { headerValue } from '../model/headers.js'
import type { Exchange, SessionHead } from '../model/session.js'
import { redactExchange, type Redactions } from './redact.js'
import { contentOf, postDataOf, type BodyFile } from './har-body.js'
import { createPrivateFile } from './private-file.js'
import type { SessionReader } from './session-reader.js'
import { tokenHash } from './token-hash.js'
import { version } from './version.js'

export type HarExportOptions = {
  /** Replace each token with `<identity-N>` in what is written, as `record --redact` does. @default false */
  redact?: boolean
  /** Where `-` writes. @default process.stdout */
  stdout?: Writable
}

export type HarExportResult = { session: string; file: string; format: 'har' | 'zip'; entries: number; bodyFiles: number }

/** `.zip` → Playwright's zip; anything else a `.har`. */
export function harFormatOf(file: string): 'har' | 'zip' {
  return /\.zip$/i.test(file) ? 'zip' : 'har'
}

/** Tokens as the recorder redacts them; aliases from the session's identities. */
class Redactor {
  readonly #known = new Map<string, string>()
  redactions: Redactions = []
  #extra = 0

  constructor(readonly head: SessionHead) {}

  #learn(token: string): void {
    if (this.#known.has(token)) return
    const hash = tokenHash(token)
    const alias = this.head.identities.find((i) => i.tokenHash === hash)?.alias ?? identityAlias(this.head.identities.length + ++this.#extra)
    this.#known.set(token, alias)
    this.redactions = [...this.#known].map(([t, a]) => [t, `<${a}>`] as const).sort((a, b) => b[0].length - a[0].length)
  }

  /** Learns the tokens an exchange sends (Cookie, Authorization) and is handed (Set-Cookie). */
  learn(e: Exchange): void {
    const found = findToken(e.request.headers)
    if (found) this.#learn(found.token)
    for (const [n, v] of e.response?.headers ?? []) {
      if (n.toLowerCase() !== 'set-cookie') continue
      const token = cookieValue(v.split(';')[0] ?? '', SESSION_COOKIE)
      if (token && token !== 'deleted') this.#learn(token)
    }
  }

  apply(e: Exchange): Exchange {
    this.learn(e)
    return redactExchange(e, this.redactions)
  }
}

/** One exchange as a HAR entry, and the body files it needs in a zip. */
export function harEntryOf(e: Exchange, zip: boolean): { entry: Record<string, unknown>; files: BodyFile[] } {
  const files: BodyFile[] = []
  const req = e.request
  const post = postDataOf(req.body, req.headers, zip)
  if (post.file) files.push(post.file)
  const request: Record<string, unknown> = {
    method: req.method,
    url: req.url,
    httpVersion: httpVersionToHar(req.httpVersion),
    cookies: harRequestCookies(req.headers),
    headers: harHeaders(req.headers),
    queryString: harQueryString(req.url),
    ...(post.postData ? { postData: post.postData } : {}),
    headersSize: -1,
    bodySize: post.bodySize,
  }
  const facts: ReltapeEntryFacts = { seq: e.seq, id: e.id }
  if (req.auth) {
    facts.identity = req.auth.identity
    facts.via = req.auth.via
  }
  if (e.error) facts.error = e.error
  if (post.facts) facts.request = post.facts
  let response: Record<string, unknown>
  if (e.response) {
    const res = e.response
    const out = contentOf(res.body, res.headers, zip)
    if (out.file) files.push(out.file)
    if (out.facts) facts.response = out.facts
    response = {
      status: res.status,
      statusText: res.statusText,
      httpVersion: httpVersionToHar(req.httpVersion),
      cookies: harResponseCookies(res.headers),
      headers: harHeaders(res.headers),
      content: out.content,
      redirectURL: headerValue(res.headers, 'location') ?? '',
      headersSize: -1,
      bodySize: -1,
      ...(e.error ? { _error: e.error.message } : {}),
    }
  } else {
    // As DevTools writes a request that got no response: status 0 and the failure's text in `_error`.
    response = {
      status: 0,
      statusText: '',
      httpVersion: '',
      cookies: [],
      headers: [],
      content: { size: 0, mimeType: 'x-unknown' },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
      _error: e.error?.message ?? 'no response',
    }
  }
  const entry = {
    startedDateTime: e.startedAt,
    time: e.durationMs,
    request,
    response,
    cache: {},
    timings: harTimings(e.durationMs),
    _reltape: facts,
  }
  return { entry, files }
}

/** Text to a stream, waiting when it asks to. */
async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain')
}

async function closeFile(stream: WriteStream): Promise<void> {
  stream.end()
  await once(stream, 'close')
}

function privateStream(file: string): WriteStream {
  return createWriteStream('', { fd: createPrivateFile(file, 0) })
}

/** Writes the HAR text of a session to a stream, calling `onFiles` with each entry's body files (zip only). */
async function writeHar(reader: SessionReader, out: Writable, zip: boolean, redact: boolean, onFiles: (files: BodyFile[]) => Promise<void>): Promise<number> {
  const head = reader.head
  const logFacts: ReltapeLogFacts = { format: head.format, session: head.name, createdAt: head.createdAt, recording: head.recording, identities: head.identities }
  const opening = {
    version: '1.2',
    creator: { name: 'reltape', version },
    pages: [],
    _reltape: logFacts,
  }
  const text = JSON.stringify({ log: opening }, null, 2)
  // The log object, left open where its entries go.
  await write(out, `${text.slice(0, text.lastIndexOf('}', text.length - 2)).trimEnd()},\n    "entries": [`)
  const redactor = redact ? new Redactor(head) : null
  // Every token first, so that one first sent late (after a login answer that carried it) is redacted everywhere.
  if (redactor) for await (const exchange of reader.exchanges()) redactor.learn(exchange)
  let n = 0
  for await (const exchange of reader.exchanges()) {
    const { entry, files } = harEntryOf(redactor ? redactor.apply(exchange) : exchange, zip)
    if (files.length) await onFiles(files)
    await write(out, `${n ? ',' : ''}\n      ${JSON.stringify(entry)}`)
    n++
  }
  await write(out, `${n ? '\n    ' : ''}]\n  }\n}\n`)
  return n
}

/**
 * Exports a session as HAR: a `.har` file, a Playwright `.zip`, or `-` (standard output). A file is written under a
 * temporary name, private (it holds tokens unless redacted), and renamed into place when complete.
 */
export async function exportHar(reader: SessionReader, file: string, options: HarExportOptions = {}): Promise<HarExportResult> {
  const format = file === '-' ? 'har' : harFormatOf(file)
  const redact = options.redact === true
  const base = { session: reader.head.name, file, format } as const
  if (file === '-') {
    const entries = await writeHar(reader, options.stdout ?? process.stdout, false, redact, async () => {})
    return { ...base, entries, bodyFiles: 0 }
  }
  const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`)
  if (format === 'har') {
    const out = privateStream(tmp)
    try {
      const entries = await writeHar(reader, out, false, redact, async () => {})
      await closeFile(out)
      await rename(tmp, file)
      return { ...base, entries, bodyFiles: 0 }
    } catch (e) {
      out.destroy()
      await rm(tmp, { force: true })
      throw e
    }
  }
  // A zip: bodies go in as they come, one at a time (so memory holds one body); the HAR text waits in a
  // temporary file and goes in last, as har.har.
  const harTmp = `${tmp}.har`
  const zipOut = privateStream(tmp)
  const harOut = privateStream(harTmp)
  const zipFile = new yazl.ZipFile()
  const failed = new Promise<never>((_, reject) => {
    zipFile.on('error', reject)
    zipOut.on('error', reject)
  })
  failed.catch(() => {})
  zipFile.outputStream.pipe(zipOut)
  const written = new Set<string>()
  try {
    const addBody = async ({ name, bytes }: BodyFile): Promise<void> => {
      if (written.has(name)) return
      written.add(name)
      const stream = Readable.from([bytes], { objectMode: false })
      zipFile.addReadStream(stream, name, { compress: !/\.(png|jpeg|gif|webp)$/.test(name), size: bytes.length })
      await Promise.race([once(stream, 'end'), failed])
    }
    const entries = await writeHar(reader, harOut, true, redact, async (files) => {
      for (const f of files) await addBody(f)
    })
    await closeFile(harOut)
    zipFile.addFile(harTmp, 'har.har')
    zipFile.end()
    await Promise.race([once(zipOut, 'close'), failed])
    await rename(tmp, file)
    return { ...base, entries, bodyFiles: written.size }
  } catch (e) {
    zipOut.destroy()
    harOut.destroy()
    await rm(tmp, { force: true })
    throw e
  } finally {
    await rm(harTmp, { force: true })
  }
}
