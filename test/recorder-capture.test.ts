/**
 * What the recorder stores, checked against the sandbox through the forward proxy with undici (CA trusted):
 * headers as on the wire, both auth forms as one identity, decoded gzip and brotli, invalid JSON, exact bytes
 * for uploads and downloads, bodies over the limit, redaction, and the default filter.
 */
import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import { AVATAR_FILE_ID, PNG_SIGNATURE, SANDBOX_TOKENS, startSandbox, type Sandbox } from '../sandbox/index.js'
import { postVia, startRecorderEnv, tempDir, until, type RecorderEnv } from './helpers/recorder-env.js'

const { customer, operator } = SANDBOX_TOKENS
const api = (s: Sandbox, method: string) => `${s.url}/public/api/v1/${method}`
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex')

let home: string
let sandbox: Sandbox
let env: RecorderEnv

beforeAll(async () => {
  home = await tempDir('rec-capture-home')
  sandbox = await startSandbox({ port: 0, home })
  env = await startRecorderEnv({}, home)
})

afterAll(async () => {
  await env?.close()
  await sandbox?.close()
})

/** The recorded exchange for a request, found by the URL and a marker in its body. */
async function recorded(predicate: (e: Exchange) => boolean): Promise<Exchange> {
  await env.rec.settle()
  const found = (await env.session()).exchanges.find(predicate)
  if (!found) throw new Error('the exchange was not recorded')
  return found
}

const byMarker = (marker: string) => (e: Exchange) => e.request.body.kind === 'json' && (e.request.body.json as { Marker?: string }).Marker === marker

describe('a tester records the support chat through the forward proxy', () => {
  it('keeps headers in wire order and case, and notes the gzip the client received while storing JSON', async () => {
    const res = await postVia(env, api(sandbox, 'chats/history'), { Marker: 'h1' }, { 'Accept-Encoding': 'gzip', Cookie: `theme=dark; client-session=${customer}` })
    expect(res.status).toBe(200)
    expect(res.headers['content-encoding']).toBe('gzip')
    const e = await recorded(byMarker('h1'))
    expect(e.request.method).toBe('POST')
    expect(e.request.url).toBe(api(sandbox, 'chats/history'))
    const names = e.request.headers.map(([n]) => n)
    expect(names).toContain('Cookie')
    expect(names.indexOf('content-type')).toBeLessThan(names.indexOf('Accept-Encoding'))
    expect(e.request.headers).toContainEqual(['Cookie', `theme=dark; client-session=${customer}`])
    expect(e.request.auth).toEqual({ via: 'cookie', identity: 'identity-1' })
    expect(e.response?.contentEncoding).toBe('gzip')
    expect(e.response?.body.kind).toBe('json')
    expect(e.response?.body.kind === 'json' && (e.response.body.json as { OK: boolean }).OK).toBe(true)
    expect(e.error).toBeNull()
    expect(env.lines.some((l) => /^#\d+ POST \/public\/api\/v1\/chats\/history {2}OK {2}identity-1 /.test(l))).toBe(true)
  })

  it('treats the same token by cookie or by Authorization: Client as one identity, and another token as another', async () => {
    await postVia(env, api(sandbox, 'chats/history'), { Marker: 'a1' }, { Authorization: `Client ${customer}` })
    await postVia(env, api(sandbox, 'chats/history'), { Marker: 'a2' }, { Authorization: `Client ${operator}` })
    const viaHeader = await recorded(byMarker('a1'))
    const other = await recorded(byMarker('a2'))
    expect(viaHeader.request.auth).toEqual({ via: 'authorization', identity: 'identity-1' })
    expect(other.request.auth?.identity).toBe('identity-2')
    const s = await env.session()
    expect(s.identities.map((i) => i.alias)).toEqual(['identity-1', 'identity-2'])
    expect(JSON.stringify(s.identities)).not.toContain(customer)
  })

  it('stores a brotli body decoded and notes br as the wire encoding', async () => {
    const res = await postVia(env, api(sandbox, 'chats/history'), { Marker: 'br1' }, { 'Accept-Encoding': 'br', Cookie: `client-session=${customer}` })
    expect(res.headers['content-encoding']).toBe('br')
    const e = await recorded(byMarker('br1'))
    expect(e.response?.contentEncoding).toBe('br')
    expect(e.response?.body.kind).toBe('json')
  })

  it('stores a JSON-typed body that is not JSON as text, and keeps recording', async () => {
    const res = await postVia(env, api(sandbox, 'debug/invalid-json'), { Marker: 'bad1' }, { Cookie: `client-session=${customer}` })
    expect(res.body.toString()).toContain('"Result": [1, 2,')
    const e = await recorded(byMarker('bad1'))
    expect(e.response?.body).toMatchObject({ kind: 'text', text: '{"OK": true, "Error": null, "Result": [1, 2,' })
    await postVia(env, api(sandbox, 'chats/history'), { Marker: 'after-bad' }, { Cookie: `client-session=${customer}` })
    await recorded(byMarker('after-bad'))
  })

  it('records an envelope that says OK:false as an error exchange, with the HTTP status 200', async () => {
    await postVia(env, api(sandbox, 'tickets/close'), { Marker: 'close1', Id: 1 }, { Authorization: `Client ${operator}` })
    const e = await recorded(byMarker('close1'))
    expect(e.response?.status).toBe(200)
    expect(e.response?.body.kind === 'json' && (e.response.body.json as { OK: boolean }).OK).toBe(false)
    expect(env.lines.some((l) => / {2}ERR TicketClosed {2}identity-2 /.test(l))).toBe(true)
  })

  it('keeps a downloaded PNG as exact bytes', async () => {
    const res = await postVia(env, api(sandbox, 'files/download'), { Marker: 'png1', Id: AVATAR_FILE_ID }, { Cookie: `client-session=${customer}` })
    expect(res.body.subarray(0, 8)).toEqual(PNG_SIGNATURE)
    const e = await recorded(byMarker('png1'))
    const body = e.response!.body
    expect(body.kind).toBe('bytes')
    if (body.kind !== 'bytes') return
    expect(body.contentType).toBe('image/png')
    expect(sha(Buffer.from(body.base64, 'base64'))).toBe(sha(res.body))
  })

  it('records a 20 MB multipart upload part by part, bytes exact', async () => {
    const file = randomBytes(20 * 1024 * 1024)
    const boundary = 'reltape-test-boundary-7f3a'
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="Note"\r\n\r\nbig one\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`),
      file,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ])
    const res = await postVia(env, api(sandbox, 'files/upload'), body, { 'content-type': `multipart/form-data; boundary=${boundary}`, Cookie: `client-session=${customer}` })
    expect(JSON.parse(res.body.toString()).OK).toBe(true)
    const e = await recorded((x) => x.request.body.kind === 'multipart' && x.request.body.size === body.length)
    const mp = e.request.body
    if (mp.kind !== 'multipart') throw new Error('not multipart')
    expect(mp.parts.map((p) => [p.name, p.filename])).toEqual([['Note', undefined], ['file', 'big.bin']])
    expect(mp.parts[0]!.body).toMatchObject({ kind: 'text', text: 'big one' })
    const filePart = mp.parts[1]!
    expect(filePart.contentType).toBe('application/octet-stream')
    expect(filePart.body.kind).toBe('bytes')
    if (filePart.body.kind !== 'bytes') return
    expect(filePart.body.size).toBe(file.length)
    expect(sha(Buffer.from(filePart.body.base64, 'base64'))).toBe(sha(file))
  }, 60_000)

  it('does not record page assets by default, and counts them as skipped', async () => {
    const before = env.rec.stats().skipped
    const { request } = await import('undici')
    const res = await request(sandbox.appUrl, { dispatcher: env.proxy })
    expect((await res.body.text()).toLowerCase()).toContain('<html')
    await until(() => env.rec.stats().skipped > before, 'the skip to be counted')
    const s = await env.session()
    expect(s.exchanges.some((e) => e.request.url.startsWith(sandbox.appUrl))).toBe(false)
  })
})

describe('bodies over the limit', () => {
  let small: RecorderEnv
  beforeAll(async () => {
    small = await startRecorderEnv({ maxBody: 4000, session: 'limit' }, home)
  })
  afterAll(async () => {
    await small?.close()
  })

  it('are stored cut with a marker and their real size, while the client gets all of it', async () => {
    const res = await postVia(small, api(sandbox, 'debug/big'), { Bytes: 20_000 }, { Cookie: `client-session=${customer}`, 'Accept-Encoding': 'identity' })
    const whole = JSON.parse(res.body.toString()) as { Result: string[] }
    expect(res.body.length).toBeGreaterThan(19_000)
    expect(whole.Result.length).toBeGreaterThan(100)
    let e: Exchange | undefined
    await until(async () => {
      e = (await small.session()).exchanges.find((x) => x.request.url.endsWith('debug/big'))
      return e !== undefined
    }, 'the big exchange')
    const body = e!.response!.body
    expect(body.truncated).toBe(true)
    expect(body.kind === 'empty' ? 0 : body.size).toBe(res.body.length)
  })
})

describe('--redact', () => {
  let red: RecorderEnv
  beforeAll(async () => {
    red = await startRecorderEnv({ redact: true, session: 'redacted' }, home)
  })
  afterAll(async () => {
    await red?.close()
  })

  it('leaves no token anywhere in the session file, only <identity-N>', async () => {
    await postVia(red, api(sandbox, 'chats/history'), { Echo: customer }, { Cookie: `client-session=${customer}` })
    await postVia(red, api(sandbox, 'chats/channel/send/support'), { LocalId: 1, Payload: 'text', Text: `my token is ${operator}` }, { Authorization: `Client ${operator}` })
    await postVia(red, api(sandbox, 'clients/get'), {}, { Authorization: `Client ${customer}` })
    await red.rec.settle()
    const s = await red.session()
    expect(s.exchanges.length).toBe(3)
    const file = red.rec.sessionFile
    await red.rec.stop()
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain(customer)
    expect(text).not.toContain(operator)
    expect(text).toContain('client-session=<identity-1>')
    expect(text).toContain('Client <identity-2>')
    expect(text).toContain('my token is <identity-2>')
    // The identities still tell the two apart.
    expect(JSON.parse(text).exchanges.map((e: Exchange) => e.request.auth?.identity)).toEqual(['identity-1', 'identity-2', 'identity-1'])
  })
})
