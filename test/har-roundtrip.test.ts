/**
 * session → HAR → session keeps every recorded field: bodies byte for byte (a PNG, a multipart upload, JSON with
 * integers past 2^53), headers in wire order, seqs and ids, identities and their labels, failures, cut and
 * omitted bodies; through a `.har` and a Playwright `.zip` alike.
 */
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Body, Exchange, HeaderPair, Session } from '../model/session.js'
import { classifyBody } from '../store/body-decode.js'
import { bodyBytes } from '../store/body-bytes.js'
import { exportHar } from '../store/har-export.js'
import { importHar } from '../store/har-import.js'
import { SessionStore } from '../store/store.js'
import { tempDir } from './helpers/exchange-factory.js'

const SESSIONS = join(import.meta.dirname, '..', 'sessions')
const TOKEN_A = 'aaaa0c6e1f2b3a4c5d6e7f8091a2b3c4d5e6f708.0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f'
const TOKEN_B = 'bbbb7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c.11223344556677889900aabbccddeeff'
const sample = JSON.parse(readFileSync(join(SESSIONS, 'sample-support-chat.json'), 'utf8')) as Session
const PNG = Buffer.from((sample.exchanges.find((e) => e.seq === 8)!.response!.body as { base64: string }).base64, 'base64')
const BOUNDARY = '----formdata-undici-031415926535'
const BIG_REQUEST = '{"ChatId":12345678901234567890,"LocalId":9007199254740993,"Text":"big"}'
const BIG_RESPONSE = '{"OK":true,"Error":null,"Result":{"Id":18446744073709551615,"Seen":[9007199254740993,1]},"Rels":{}}'

const classify = (bytes: Buffer | string, contentType: string, maxBody = Number.POSITIVE_INFINITY): Body =>
  classifyBody(Buffer.from(bytes), contentType, { maxBody })

function multipart(): Buffer {
  return Buffer.concat([
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="ChatId"\r\n\r\n10\r\n`),
    Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="avatar.png"\r\nContent-Type: image/png\r\n\r\n`),
    PNG,
    Buffer.from(`\r\n--${BOUNDARY}--\r\n`),
  ])
}

type Spec = { seq: number; method?: string; url?: string; http?: string; reqHeaders?: HeaderPair[]; reqBody?: Body; res?: { status: number; headers: HeaderPair[]; body: Body } | null; error?: Exchange['error'] }

let dir: string
let built: Session

/** A session with every kind of body and failure, written through the store's writer as the recorder writes. */
async function buildSession(store: SessionStore): Promise<Session> {
  const writer = await store.open('kinds', { recording: { tool: 'reltape/test', mode: 'reverse', upstream: 'https://api.example' } })
  const api = 'https://api.example/public/api/v1'
  const json = (text: string, contentType = 'application/json') => classify(text, contentType)
  const specs: Spec[] = [
    {
      seq: 1,
      reqHeaders: [['Host', 'api.example'], ['Content-Type', 'application/json'], ['Cookie', `theme=dark; client-session=${TOKEN_A}`]],
      reqBody: json(BIG_REQUEST),
      res: { status: 200, headers: [['Content-Type', 'application/json'], ['Set-Cookie', `client-session=${TOKEN_A}; Path=/; HttpOnly; Secure; SameSite=None`], ['content-encoding', 'gzip']], body: json(BIG_RESPONSE) },
    },
    {
      seq: 2,
      url: `${api}/files/upload`,
      reqHeaders: [['host', 'api.example'], ['authorization', `Client ${TOKEN_B}`], ['content-type', `multipart/form-data; boundary=${BOUNDARY}`]],
      reqBody: classify(multipart(), `multipart/form-data; boundary=${BOUNDARY}`),
      res: { status: 200, headers: [['content-type', 'application/json; charset=utf-8']], body: json('{"OK":true,"Error":null,"Result":{"Id":"avatar.png"}}', 'application/json; charset=utf-8') },
    },
    {
      seq: 3,
      url: `${api}/files/download`,
      http: '2.0',
      reqHeaders: [['content-type', 'application/json'], ['cookie', `client-session=${TOKEN_A}`]],
      reqBody: json('{"Id":"avatar.png"}'),
      res: { status: 200, headers: [['content-type', 'image/png'], ['content-length', String(PNG.length)], ['X-Dup', 'a'], ['x-dup', 'b']], body: classify(PNG, 'image/png') },
    },
    // seq 4 is missing, as when a recording was cut: the export keeps the gap.
    { seq: 5, url: `${api}/files/download?name=notes.txt&x=a%20b`, method: 'GET', reqHeaders: [['accept', '*/*']], reqBody: { kind: 'empty' }, res: { status: 200, headers: [['content-type', 'text/plain; charset=utf-8']], body: classify('привет, мир\nline 2\n', 'text/plain; charset=utf-8') } },
    { seq: 6, reqHeaders: [['content-type', 'application/json']], reqBody: json('{"ChatId":10}'), res: null, error: { code: 'UPSTREAM_TLS', message: 'certificate has expired: api.example' } },
    { seq: 7, reqHeaders: [['content-type', 'application/json']], reqBody: json('{"ChatId":11}'), res: { status: 200, headers: [['content-type', 'application/json']], body: classify(BIG_RESPONSE, 'application/json', 20) } },
    { seq: 8, reqHeaders: [['content-type', 'application/json']], reqBody: json('{"ChatId":12}'), res: { status: 200, headers: [['content-type', 'application/octet-stream']], body: { kind: 'bytes', base64: '', contentType: 'application/octet-stream', size: 5000, omitted: true } } },
    { seq: 9, method: 'OPTIONS', reqHeaders: [['Origin', 'https://app.example'], ['Access-Control-Request-Method', 'POST']], reqBody: { kind: 'empty' }, res: { status: 204, headers: [['Access-Control-Allow-Origin', 'https://app.example'], ['Access-Control-Allow-Credentials', 'true']], body: { kind: 'empty' } } },
    { seq: 10, reqHeaders: [['content-type', 'application/json']], reqBody: json('{"ChatId":13}'), res: { status: 302, headers: [['Location', '/public/api/v1/chats/moved']], body: { kind: 'empty' } }, error: { code: 'CLIENT_ABORTED', message: 'the client left' } },
  ]
  for (const s of specs) {
    const headers = s.reqHeaders ?? []
    const cookie = headers.find(([n]) => n.toLowerCase() === 'cookie')?.[1]
    const authz = headers.find(([n]) => n.toLowerCase() === 'authorization')?.[1]
    const auth = cookie?.includes(TOKEN_A)
      ? { via: 'cookie' as const, identity: writer.identityFor(TOKEN_A, 'customer').alias }
      : authz
        ? { via: 'authorization' as const, identity: writer.identityFor(TOKEN_B).alias }
        : null
    writer.append({
      seq: s.seq,
      id: `exchange-${s.seq}`,
      startedAt: new Date(Date.UTC(2026, 0, 2, 9, 0, s.seq, 125)).toISOString(),
      durationMs: 10.5 + s.seq,
      request: { method: s.method ?? 'POST', url: s.url ?? `${api}/chats/history`, httpVersion: s.http ?? '1.1', headers, body: s.reqBody ?? { kind: 'empty' }, auth },
      response: s.res ? { status: s.res.status, statusText: s.res.status === 200 ? 'OK' : '', headers: s.res.headers, body: s.res.body, contentEncoding: s.res.headers.find(([n]) => n.toLowerCase() === 'content-encoding')?.[1] ?? null } : null,
      error: s.error ?? null,
    })
  }
  await writer.close()
  return store.read('kinds')
}

beforeAll(async () => {
  dir = await tempDir('reltape-har-roundtrip-')
  built = await buildSession(new SessionStore(join(dir, 'source')))
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function roundTrip(sessionsDir: string, name: string, file: string): Promise<Session> {
  const source = new SessionStore(sessionsDir)
  await exportHar(await source.reader(name), join(dir, file))
  const target = join(dir, `back-${file}`)
  const result = await importHar(join(dir, file), { dir: target, session: name })
  expect(result.warnings).toEqual([])
  return new SessionStore(target).read(name)
}

describe.each(['har', 'zip'])('session → .%s → session', (ext) => {
  it('keeps the committed sample session exchange for exchange', async () => {
    const back = await roundTrip(SESSIONS, 'sample-support-chat', `sample.${ext}`)
    expect(back.exchanges).toEqual(sample.exchanges)
    expect(back.identities).toEqual(sample.identities)
    expect(back.recording).toEqual({ tool: 'reltape/0.1.0', mode: 'import', upstream: null })
  })

  it('keeps every kind of body byte for byte, seqs with their gap, failures, labels', async () => {
    const back = await roundTrip(join(dir, 'source'), 'kinds', `kinds.${ext}`)
    expect(back.exchanges).toEqual(built.exchanges)
    expect(back.identities).toEqual(built.identities)
    expect(back.identities[0]!.label).toBe('customer')
    const bySeq = (s: Session, seq: number) => s.exchanges.find((e) => e.seq === seq)!
    expect(back.exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10])
    // The bytes replay would serve are the recorded ones.
    expect(bodyBytes(bySeq(back, 1).request.body).toString()).toBe(BIG_REQUEST)
    expect(bodyBytes(bySeq(back, 1).response!.body).toString()).toBe(BIG_RESPONSE)
    expect(bodyBytes(bySeq(back, 3).response!.body).equals(PNG)).toBe(true)
    expect(bodyBytes(bySeq(back, 2).request.body).equals(multipart())).toBe(true)
  })
})

describe('the exported HAR', () => {
  it('holds JSON past 2^53 as its exact text, binary as base64, failures as status 0 with _error', async () => {
    await exportHar(await new SessionStore(join(dir, 'source')).reader('kinds'), join(dir, 'look.har'))
    const har = JSON.parse(readFileSync(join(dir, 'look.har'), 'utf8'))
    const [first, upload, png, , failed] = har.log.entries
    expect(har.log.version).toBe('1.2')
    expect(har.log.creator.name).toBe('reltape')
    expect(first.request.postData).toMatchObject({ mimeType: 'application/json', text: BIG_REQUEST })
    expect(first.response.content).toMatchObject({ mimeType: 'application/json', text: BIG_RESPONSE, size: BIG_RESPONSE.length })
    expect(first.request.cookies).toEqual([
      { name: 'theme', value: 'dark' },
      { name: 'client-session', value: TOKEN_A },
    ])
    expect(first.response.cookies[0]).toMatchObject({ name: 'client-session', path: '/', httpOnly: true, secure: true, sameSite: 'None' })
    expect(first._reltape).toEqual({ seq: 1, id: 'exchange-1', identity: 'identity-1', via: 'cookie' })
    expect(upload.request.postData.encoding).toBe('base64')
    expect(upload.request.postData.params.map((p: { name: string }) => p.name)).toEqual(['ChatId', 'file'])
    expect(png.request.httpVersion).toBe('HTTP/2.0')
    expect(png.response.headers.map((h: { name: string }) => h.name)).toEqual(['content-type', 'content-length', 'X-Dup', 'x-dup'])
    expect(png.response.content).toMatchObject({ encoding: 'base64', text: PNG.toString('base64'), size: PNG.length })
    expect(har.log.entries[3].request.queryString).toEqual([
      { name: 'name', value: 'notes.txt' },
      { name: 'x', value: 'a b' },
    ])
    expect(failed.response).toMatchObject({ status: 0, _error: 'certificate has expired: api.example' })
    expect(failed._reltape.error).toEqual({ code: 'UPSTREAM_TLS', message: 'certificate has expired: api.example' })
    expect(failed.timings).toMatchObject({ wait: 16.5 })
    expect(failed.time).toBe(16.5)
  })

  it('holds no token with --redact: each is its identity alias', async () => {
    await exportHar(await new SessionStore(join(dir, 'source')).reader('kinds'), join(dir, 'redacted.har'), { redact: true })
    const text = readFileSync(join(dir, 'redacted.har'), 'utf8')
    expect(text).not.toContain(TOKEN_A)
    expect(text).not.toContain(TOKEN_B)
    const har = JSON.parse(text)
    expect(har.log.entries[0].request.headers[2]).toEqual({ name: 'Cookie', value: 'theme=dark; client-session=<identity-1>' })
    expect(har.log.entries[1].request.headers[1]).toEqual({ name: 'authorization', value: 'Client <identity-2>' })
  })
})
