/**
 * `reltape import`: HARs as real tools write them become sessions the rest of reltape reads, with the recorder's
 * filter, identities and redaction; a body a HAR omitted is marked, never invented; an invalid HAR writes nothing.
 */
import { once } from 'node:events'
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import yazl from 'yazl'
import { describe, expect, it } from 'vitest'
import { HarFormatError } from '../model/har.js'
import type { Exchange, MultipartBody, Session } from '../model/session.js'
import { bodyBytes } from '../store/body-bytes.js'
import { exportHar } from '../store/har-export.js'
import { importHar, SessionExistsError, type HarImportResult } from '../store/har-import.js'
import { importHarToMemory } from './helpers/har-memory.js'
import { SessionStore } from '../store/store.js'
import { tempDirsPerTest } from './helpers/temp-dirs.js'

const FIXTURES = join(import.meta.dirname, 'fixtures/har')
const TOKEN_A = '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d.0f1e2d3c4b5a69788796a5b4c3d2e1f0'
const TOKEN_B = '9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c.11223344556677889900aabbccddeeff'

const dir = tempDirsPerTest('reltape-har-import-')

/** Imports a fixture into a fresh sessions directory and reads the session back as every part reads it. */
async function imported(file: string, options: Partial<Parameters<typeof importHar>[1]> = {}): Promise<{ result: HarImportResult; session: Session }> {
  const d = await dir()
  const result = await importHar(file.startsWith('/') ? file : join(FIXTURES, file), { dir: d, ...options })
  const session = await new SessionStore(d).read(result.session)
  return { result, session }
}

const header = (e: Exchange, side: 'request' | 'response', name: string) =>
  (side === 'request' ? e.request.headers : e.response!.headers).find(([n]) => n.toLowerCase() === name)?.[1]

/** Zips a folder's files (Playwright's layout) into `zip`. */
async function zipFolder(folder: string, zip: string): Promise<void> {
  const z = new yazl.ZipFile()
  for (const name of readdirSync(folder)) z.addFile(join(folder, name), name)
  z.end()
  const out = createWriteStream(zip)
  z.outputStream.pipe(out)
  await once(out, 'close')
}

describe('a Chrome DevTools HAR', () => {
  it('becomes the API traffic as the recorder would have stored it', async () => {
    const { result, session } = await imported('chrome-devtools.har')
    expect(result).toMatchObject({ session: 'chrome-devtools', entries: 6, exchanges: 5, leftOut: 1 })
    expect(session.recording).toEqual({ tool: 'WebInspector/537.36', mode: 'import', upstream: null })
    const [preflight, history, png, photo, failed] = session.exchanges as [Exchange, Exchange, Exchange, Exchange, Exchange]
    expect(session.exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    // The preflight is kept; the document is left out.
    expect(preflight.request.method).toBe('OPTIONS')
    expect(preflight.response!.status).toBe(204)
    // HTTP/2 pseudo-headers are dropped; :authority is the Host.
    expect(history.request.httpVersion).toBe('2.0')
    expect(history.request.headers.some(([n]) => n.startsWith(':'))).toBe(false)
    expect(history.request.headers[0]).toEqual(['host', 'api.example'])
    expect(history.request.body).toEqual({ kind: 'json', json: { ChatId: 10, Limit: 50 }, contentType: 'application/json', size: 24 })
    // Labelled gzip, text already decoded: parsed as is, the wire encoding remembered.
    expect(history.response!.body).toMatchObject({ kind: 'json', json: { OK: true, Result: [{ Id: 1, Text: 'hi' }] } })
    expect(history.response!.contentEncoding).toBe('gzip')
    expect(history.durationMs).toBe(42)
    expect(history.startedAt).toBe('2026-01-02T09:00:00.450Z')
    // Identities: the cookie's and the header's token, as the recorder tells them apart.
    expect(history.request.auth).toEqual({ via: 'cookie', identity: 'identity-1' })
    expect(png.request.auth).toEqual({ via: 'authorization', identity: 'identity-2' })
    expect(session.identities.map((i) => i.alias)).toEqual(['identity-1', 'identity-2'])
    expect(png.response!.body).toMatchObject({ kind: 'bytes', contentType: 'image/png', size: 137 })
    expect(bodyBytes(png.response!.body).subarray(1, 4).toString()).toBe('PNG')
    // A body DevTools did not keep: its declared size, no bytes, marked; and a warning naming where.
    expect(photo.response!.body).toEqual({ kind: 'bytes', base64: '', contentType: 'image/png', size: 5120, omitted: true })
    expect(result.warnings).toEqual([expect.stringMatching(/^log\.entries\[4\]\.response\.content: no content \(5120 bytes declared\)/)])
    // status 0 with _error: a failed exchange, with the recorder's code for it.
    expect(failed.response).toBeNull()
    expect(failed.error).toEqual({ code: 'UPSTREAM_UNREACHABLE', message: 'net::ERR_CONNECTION_REFUSED' })
  })

  it('imports the page too with --all, and keeps an excluded path out', async () => {
    const { result } = await imported('chrome-devtools.har', { filter: { all: true } })
    expect(result).toMatchObject({ entries: 6, exchanges: 6, leftOut: 0 })
    const { result: excluded, session } = await imported('chrome-devtools.har', { filter: { exclude: ['/public/api/v1/files/**'] } })
    expect(excluded).toMatchObject({ entries: 6, exchanges: 3, leftOut: 3 })
    expect(session.exchanges.every((e) => !e.request.url.includes('/files/'))).toBe(true)
    const { result: included } = await imported('chrome-devtools.har', { filter: { include: ['app.example/'] } })
    expect(included).toMatchObject({ exchanges: 6, leftOut: 0 })
  })

  it('stores tokens as <identity-N> with --redact, as record --redact does', async () => {
    const { session } = await imported('chrome-devtools.har', { redact: true })
    const text = JSON.stringify(session.exchanges)
    expect(text).not.toContain(TOKEN_A)
    expect(text).not.toContain(TOKEN_B)
    expect(header(session.exchanges[1]!, 'request', 'cookie')).toBe('client-session=<identity-1>')
    expect(header(session.exchanges[2]!, 'request', 'authorization')).toBe('Client <identity-2>')
    expect(session.exchanges[1]!.request.auth).toEqual({ via: 'cookie', identity: 'identity-1' })
  })
})

describe('--redact', () => {
  it('redacts a token everywhere, also before the request that first sends it (a login answer), on import and export', async () => {
    const d = await dir()
    const entry = (i: number, headers: { name: string; value: string }[], answer: string) => ({
      startedDateTime: `2026-01-02T09:00:0${i}.000Z`,
      time: 5,
      request: { method: 'POST', url: 'https://api.example/public/api/v1/auth/login', httpVersion: 'HTTP/1.1', headers, cookies: [], queryString: [], headersSize: -1, bodySize: 2, postData: { mimeType: 'application/json', text: '{}' } },
      response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [{ name: 'content-type', value: 'application/json' }], cookies: [], content: { size: answer.length, mimeType: 'application/json', text: answer }, redirectURL: '', headersSize: -1, bodySize: -1 },
      cache: {},
      timings: { send: 0, wait: 5, receive: 0 },
    })
    const har = {
      log: {
        version: '1.2',
        creator: { name: 'test', version: '1' },
        entries: [
          entry(0, [{ name: 'content-type', value: 'application/json' }], JSON.stringify({ OK: true, Result: { Token: TOKEN_A } })),
          entry(1, [{ name: 'cookie', value: `client-session=${TOKEN_A}` }], JSON.stringify({ OK: true })),
        ],
      },
    }
    writeFileSync(join(d, 'login.har'), JSON.stringify(har))
    const { session } = await imported(join(d, 'login.har'), { redact: true })
    expect(JSON.stringify(session.exchanges)).not.toContain(TOKEN_A)
    expect(session.exchanges[0]!.response!.body).toMatchObject({ json: { Result: { Token: '<identity-1>' } } })
    // Export: from the unredacted import, with --redact.
    const plain = join(d, 'plain')
    await importHar(join(d, 'login.har'), { dir: plain })
    await exportHar(await new SessionStore(plain).reader('login'), join(d, 'out.har'), { redact: true })
    const text = readFileSync(join(d, 'out.har'), 'utf8')
    expect(text).not.toContain(TOKEN_A)
    expect(text).toContain('<identity-1>')
  })
})

describe('a Firefox HAR', () => {
  it('reads offset dates, form posts, a token set by Set-Cookie, and a failure with no text', async () => {
    const { result, session } = await imported('firefox.har')
    expect(result).toMatchObject({ entries: 5, exchanges: 4, leftOut: 1, warnings: [] })
    expect(session.recording.tool).toBe('Firefox/128.0')
    const [login, history, png, failed] = session.exchanges as [Exchange, Exchange, Exchange, Exchange]
    expect(login.startedAt).toBe('2026-01-02T09:00:00.123Z')
    expect(login.request.httpVersion).toBe('2.0')
    // postData.text is what was sent; its params are only a view of it.
    expect(login.request.body).toMatchObject({ kind: 'text', text: 'login=ivan%40example.org&password=p+w%26d' })
    // The token the login set is identity-1, which the next call then sends.
    expect(session.identities).toHaveLength(1)
    expect(history.request.auth).toEqual({ via: 'cookie', identity: 'identity-1' })
    expect(png.response!.body).toMatchObject({ kind: 'bytes', size: 137 })
    expect(failed.response).toBeNull()
    expect(failed.error?.code).toBe('NO_RESPONSE')
  })
})

describe('a mitmproxy HAR', () => {
  it('takes the decoded text whatever content.size says, null timings, and response._error', async () => {
    const { result, session } = await imported('mitmproxy.har')
    expect(result).toMatchObject({ entries: 3, exchanges: 3, leftOut: 0, warnings: [] })
    expect(session.recording.tool).toBe('mitmproxy exporthar/0.1')
    const [history, png, failed] = session.exchanges as [Exchange, Exchange, Exchange]
    expect(history.startedAt).toBe('2026-01-02T09:00:00.123Z')
    const json = { OK: true, Error: null, Result: [{ Id: 7 }], Rels: {} }
    // content.size is the gzip size there; the stored size is the decoded text's.
    expect(history.response!.body).toEqual({ kind: 'json', json, contentType: 'application/json; charset=utf-8', size: JSON.stringify(json).length })
    expect(history.request.auth?.via).toBe('authorization')
    expect(png.response!.body).toMatchObject({ kind: 'bytes', size: 137 })
    expect(failed.error).toMatchObject({ code: 'UPSTREAM_UNREACHABLE', message: expect.stringContaining('Connection refused') })
  })
})

describe('an HTTP Toolkit HAR', () => {
  it('marks the bodies it left out as omitted, with their declared sizes', async () => {
    const { result, session } = await imported('httptoolkit.har')
    expect(result).toMatchObject({ entries: 3, exchanges: 3, leftOut: 0 })
    const [upload, download, aborted] = session.exchanges as [Exchange, Exchange, Exchange]
    expect(upload.request.body).toEqual({ kind: 'bytes', base64: '', contentType: 'application/octet-stream', size: 51200, omitted: true })
    expect(download.response!.body).toEqual({ kind: 'bytes', base64: '', contentType: 'application/octet-stream', size: 65536, omitted: true })
    expect(result.warnings).toHaveLength(2)
    expect(aborted.response).toBeNull()
    expect(aborted.error?.code).toBe('NO_RESPONSE')
    // time −1: the duration is what the timings measured.
    expect(aborted.durationMs).toBe(22)
  })
})

describe('an Insomnia HAR', () => {
  it('rebuilds form bodies from params, and marks a file it does not hold as omitted', async () => {
    const { result, session } = await imported('insomnia.har')
    expect(session.recording.tool).toBe('Insomnia REST Client/insomnia.desktop.app:v10.1.1')
    const [upload, login] = session.exchanges as [Exchange, Exchange]
    const body = upload.request.body as MultipartBody
    expect(body.kind).toBe('multipart')
    expect(body.parts.map((p) => [p.name, p.filename])).toEqual([
      ['ChatId', undefined],
      ['file', '/home/qa/order-4711.txt'],
    ])
    expect(body.parts[0]!.body).toMatchObject({ kind: 'text', text: '10' })
    expect(body.parts[1]!.body).toMatchObject({ kind: 'bytes', base64: '', omitted: true })
    expect(login.request.body).toMatchObject({ kind: 'text', text: 'login=ivan%40example.org&password=p+w%26d' })
    expect(result.warnings.filter((w) => w.includes('rebuilt from'))).toHaveLength(2)
    expect(result.warnings.some((w) => w.includes('params[1]') && w.includes('omitted'))).toBe(true)
  })
})

describe('a Fiddler HAR', () => {
  it('reads past the UTF-8 byte-order mark', async () => {
    const { result, session } = await imported('fiddler.har')
    expect(result).toMatchObject({ entries: 1, exchanges: 1 })
    expect(session.recording.tool).toBe('Fiddler/5.0.20211.51073')
    expect(session.exchanges[0]!.response!.body).toMatchObject({ kind: 'json', json: { OK: true } })
  })
})

describe('a Playwright HAR', () => {
  async function checkPlaywright(session: Session, result: HarImportResult) {
    expect(result).toMatchObject({ entries: 3, exchanges: 3, leftOut: 0, warnings: [] })
    expect(session.recording.tool).toBe('Playwright/1.65.1')
    const [history, png, failed] = session.exchanges as [Exchange, Exchange, Exchange]
    expect(history.request.body).toEqual({ kind: 'json', json: { ChatId: 10, Limit: 50 }, contentType: 'application/json', size: 24 })
    expect(history.response!.body).toMatchObject({ kind: 'json', json: { Result: [{ Id: 3 }] } })
    expect(png.response!.body).toMatchObject({ kind: 'bytes', contentType: 'image/png', size: 137 })
    // status −1 and _failureText: no response came.
    expect(failed.response).toBeNull()
    expect(failed.error).toEqual({ code: 'UPSTREAM_RESET', message: 'net::ERR_CONNECTION_RESET' })
  }

  it('is read from its zip: har.har and the body files its entries name', async () => {
    const d = await dir()
    const zip = join(d, 'trace.zip')
    await zipFolder(join(FIXTURES, 'playwright'), zip)
    const { result, session } = await imported(zip)
    expect(result.session).toBe('trace')
    await checkPlaywright(session, result)
  })

  it('is read as a .har with its body files beside it (content: attach)', async () => {
    const { result, session } = await imported(join(FIXTURES, 'playwright/har.har'))
    await checkPlaywright(session, result)
  })
})

describe('what HARs in the wild hold', () => {
  it('decodes defensively and says what it could not read', async () => {
    const { result, session } = await imported('quirks.har')
    const [flagged, undecodable, gzipped, missing, escaping] = session.exchanges as Exchange[] as [Exchange, Exchange, Exchange, Exchange, Exchange]
    // Flagged base64 but plain JSON: read as the text it is.
    expect(flagged.response!.body).toMatchObject({ kind: 'json', json: { OK: true, Result: 1 } })
    // Labelled gzip, gzip's magic bytes, but no gzip: kept as bytes, exactly.
    expect(undecodable.response!.body).toMatchObject({ kind: 'bytes', size: 12 })
    expect(bodyBytes(undecodable.response!.body).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]))
    // Still gzipped in the HAR: decoded, as the recorder stores bodies.
    expect(gzipped.response!.body).toMatchObject({ kind: 'json', json: { Result: [{ Id: 7 }] } })
    expect(missing.response!.body).toEqual({ kind: 'bytes', base64: '', contentType: 'image/png', size: 300, omitted: true })
    // A body file outside the HAR's folder is never read.
    expect(escaping.response!.body).toMatchObject({ kind: 'bytes', base64: '', omitted: true })
    expect(result.warnings.map((w) => w.replace(/:.*/, ''))).toEqual([
      'log.entries[0].response.content.text',
      'log.entries[1].response.content',
      'log.entries[3].response.content._file',
      'log.entries[4].response.content._file',
    ])
  })
})

describe('an invalid HAR', () => {
  it.each([
    ['invalid-missing-url.har', 'log.entries[3].request.url: missing'],
    ['invalid-truncated.har', 'log.entries[0]: the file ends before the JSON does'],
    ['invalid-no-log.har', 'log: missing'],
  ])('%s fails naming the file and the JSON path, and writes no session', async (file, message) => {
    const d = await dir()
    const error = await importHar(join(FIXTURES, file), { dir: d }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HarFormatError)
    expect((error as HarFormatError).code).toBe('HAR_INVALID')
    expect((error as Error).message).toContain(`${join(FIXTURES, file)}: ${message}`)
    // Nothing in the directory: no session, no journal, no temporary folder.
    expect(readdirSync(d)).toEqual([])
  })

  it('refuses to replace a session that exists', async () => {
    const d = await dir()
    await importHar(join(FIXTURES, 'fiddler.har'), { dir: d })
    const error = await importHar(join(FIXTURES, 'firefox.har'), { dir: d, session: 'fiddler' }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(SessionExistsError)
    expect((await new SessionStore(d).read('fiddler')).exchanges).toHaveLength(1)
    expect(readdirSync(d).filter((f) => f.startsWith('.import-'))).toEqual([])
  })
})

describe('every fixture', () => {
  it.each(['chrome-devtools.har', 'firefox.har', 'mitmproxy.har', 'httptoolkit.har', 'insomnia.har', 'fiddler.har', 'quirks.har'])(
    '%s: every entry becomes an exchange or is counted as left out; the same in memory as on disk',
    async (file) => {
      const { result, session } = await imported(file)
      expect(result.entries).toBe(result.exchanges + result.leftOut)
      expect(session.exchanges).toHaveLength(result.exchanges)
      const memory = await importHarToMemory(join(FIXTURES, file))
      expect(memory.counts).toEqual({ entries: result.entries, exchanges: result.exchanges, leftOut: result.leftOut, warnings: result.warnings })
      const strip = (e: Exchange) => ({ ...e, id: '' })
      expect(memory.session.exchanges.map(strip)).toEqual(session.exchanges.map(strip))
      expect(existsSync(join(FIXTURES, `${file}.json`))).toBe(false)
    },
  )
})
