/** The recorder's pure parts: body classification, the filter, redaction, error codes and the screen line. */
import { gzipSync, brotliCompressSync, deflateSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import { classifyBody, decodeBody, parseMultipart } from '../store/body-decode.js'
import { MAX_JSON_DEPTH, mayExceedJsonDepth } from '../model/json-depth.js'
import { consoleLine } from '../recorder/console-line.js'
import { exchangeErrorCode, passthroughErrorCode } from '../recorder/errors.js'
import { TrafficFilter } from '../store/traffic-filter.js'
import { redactExchange } from '../store/redact.js'

const limits = { maxBody: 1024 * 1024 }

describe('bodies', () => {
  it('keeps the exact text of JSON that re-serialising would change (spacing, big integers)', () => {
    const spaced = classifyBody(Buffer.from('{"OK": true}'), 'application/json', limits)
    expect(spaced).toEqual({ kind: 'json', json: { OK: true }, raw: '{"OK": true}', contentType: 'application/json', size: 12 })
    const big = classifyBody(Buffer.from('{"Id":12345678901234567890}'), 'application/json; charset=utf-8', limits)
    expect(big.kind === 'json' && big.raw).toBe('{"Id":12345678901234567890}')
    const compact = classifyBody(Buffer.from('{"OK":true}'), 'application/json', limits)
    expect(compact).not.toHaveProperty('raw')
  })

  it('stores invalid JSON as text, binary as bytes, and nothing as empty', () => {
    expect(classifyBody(Buffer.from('{"a":'), 'application/json', limits)).toMatchObject({ kind: 'text', text: '{"a":' })
    expect(classifyBody(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0xff]), 'image/png', limits)).toMatchObject({ kind: 'bytes', base64: 'iVBOR/8=' })
    expect(classifyBody(Buffer.alloc(0), 'application/json', limits)).toEqual({ kind: 'empty' })
    // A UTF-8 BOM survives the trip through text.
    const bom = classifyBody(Buffer.from('\ufeffhello'), 'text/plain', limits)
    expect(bom.kind === 'text' && Buffer.from(bom.text).equals(Buffer.from('\ufeffhello'))).toBe(true)
  })

  it('stores JSON nested past the limit as text, whether its brackets are counted or its value walked', () => {
    const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`
    const classify = (text: string) => classifyBody(Buffer.from(text), 'application/json', limits).kind
    expect(classify(deep(MAX_JSON_DEPTH))).toBe('json')
    expect(classify(deep(MAX_JSON_DEPTH + 1))).toBe('text')
    // Many brackets (in strings too), but shallow: counted past the limit, then walked.
    const wide = JSON.stringify({ a: Array.from({ length: 800 }, () => ({ b: '[{' })) })
    expect(mayExceedJsonDepth(wide)).toBe(true)
    expect(classify(wide)).toBe('json')
    // Long, with few brackets: not walked.
    expect(mayExceedJsonDepth(JSON.stringify({ a: 'x'.repeat(5000) }))).toBe(false)
  })

  it('cuts a body over the limit and marks it, keeping its real size', () => {
    const b = classifyBody(Buffer.from('x'.repeat(100)), 'text/plain', { maxBody: 10 })
    expect(b).toMatchObject({ kind: 'text', text: 'x'.repeat(10), size: 100, truncated: true })
  })

  it('decodes gzip, br and deflate, and keeps what it cannot decode as the wire bytes', async () => {
    const text = Buffer.from('{"OK":true}')
    for (const [enc, wire] of [['gzip', gzipSync(text)], ['br', brotliCompressSync(text)], ['deflate', deflateSync(text)]] as const)
      expect((await decodeBody(wire, enc)).bytes.equals(text)).toBe(true)
    const bad = await decodeBody(Buffer.from('not gzip'), 'gzip')
    expect(bad.decodeError).toMatch(/could not decode gzip/)
    expect(bad.bytes.toString()).toBe('not gzip')
    expect((await decodeBody(text, 'zstd')).decodeError).toMatch(/unknown content-encoding/)
  })

  it('decodes gzip whose size its trailer gives wrongly or not at all: larger than a chunk, two members, a lying trailer', async () => {
    const large = Buffer.from(JSON.stringify({ Result: 'x'.repeat(100_000) }))
    expect((await decodeBody(gzipSync(large), 'gzip')).bytes.equals(large)).toBe(true)
    // Two gzip members back to back: the trailer only gives the last one's size.
    const two = Buffer.concat([gzipSync('{"OK":'), gzipSync('true}')])
    expect((await decodeBody(two, 'gzip')).bytes.toString()).toBe('{"OK":true}')
    // A trailer claiming 4 GiB: decoding is not sized by it, and zlib's own length check reports the lie.
    const lying = gzipSync(large)
    lying.writeUInt32LE(0xffffffff, lying.length - 4)
    const lied = await decodeBody(lying, 'gzip')
    expect(lied.decodeError).toMatch(/could not decode gzip/)
    expect(lied.bytes.equals(lying)).toBe(true)
  })

  it('splits multipart into parts with names, filenames, types and exact bytes', () => {
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45])
    const body = Buffer.concat([
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="Text"\r\n\r\nhi there\r\n'),
      Buffer.from('--XyZ\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'),
      bytes,
      Buffer.from('\r\n--XyZ--\r\n'),
    ])
    const parts = parseMultipart(body, 'multipart/form-data; boundary="XyZ"', limits)
    expect(parts?.map((p) => [p.name, p.filename, p.contentType])).toEqual([
      ['Text', undefined, undefined],
      ['file', 'a.bin', 'application/octet-stream'],
    ])
    expect(parts?.[1]?.body.kind === 'bytes' && Buffer.from(parts[1].body.base64, 'base64').equals(bytes)).toBe(true)
    expect(parseMultipart(Buffer.from('garbage'), 'multipart/form-data; boundary=XyZ', limits)).toBeNull()
    // Not well formed: kept as bytes rather than lost.
    expect(classifyBody(Buffer.from('garbage'), 'multipart/form-data; boundary=XyZ', limits).kind).not.toBe('multipart')
  })
})

describe('the filter', () => {
  const req = (path: string, more: Partial<Parameters<TrafficFilter['judge']>[0]> = {}) => ({ method: 'POST', host: 'app.example.com', path, preflight: false, ...more })

  it('records API paths, JSON requests and preflights, and waits for the response type otherwise', () => {
    const f = new TrafficFilter()
    expect(f.judge(req('/public/api/v1/files/download'))).toBe('record')
    expect(f.judge(req('/graphql', { requestContentType: 'application/json' }))).toBe('record')
    expect(f.judge(req('/anything', { method: 'OPTIONS', preflight: true }))).toBe('record')
    expect(f.judge(req('/static/app.js', { method: 'GET' }))).toBe('response')
    expect(f.judgeResponse('application/json; charset=utf-8')).toBe('record')
    expect(f.judgeResponse('text/css')).toBe('skip')
  })

  it('applies --include, --exclude (which wins) and --all on host and path', () => {
    const f = new TrafficFilter({ include: ['/static/**'], exclude: ['telemetry.example.com', '/public/api/v1/ping'] })
    expect(f.judge(req('/static/app.js'))).toBe('record')
    expect(f.judge(req('/public/api/v1/ping'))).toBe('skip')
    expect(f.judge(req('/public/api/v1/x', { host: 'telemetry.example.com' }))).toBe('skip')
    const all = new TrafficFilter({ all: true, exclude: ['**/*.png'] })
    expect(all.judge(req('/index.html'))).toBe('record')
    expect(all.judge(req('/img/a.png'))).toBe('skip')
    expect(all.describe()).toBe('everything; never **/*.png')
  })
})

describe('redaction, errors, the screen line', () => {
  const exchange: Exchange = {
    seq: 3,
    id: 'x',
    startedAt: new Date(0).toISOString(),
    durationMs: 38.4,
    request: {
      method: 'POST',
      url: 'https://h/public/api/v1/chats/history?t=SECRETTOKEN123456',
      httpVersion: '1.1',
      headers: [['Cookie', 'client-session=SECRETTOKEN123456']],
      body: { kind: 'json', json: { SECRETTOKEN123456: ['SECRETTOKEN123456'] }, raw: '{"SECRETTOKEN123456": ["SECRETTOKEN123456"]}', contentType: 'application/json', size: 44 },
      auth: { via: 'cookie', identity: 'identity-1' },
    },
    response: {
      status: 200,
      statusText: 'OK',
      headers: [['Set-Cookie', 'client-session=SECRETTOKEN123456; Path=/']],
      body: { kind: 'bytes', base64: Buffer.from('..SECRETTOKEN123456..').toString('base64'), contentType: 'application/octet-stream', size: 21 },
      contentEncoding: null,
    },
    error: null,
  }

  it('replaces a token everywhere: URL, headers, JSON keys and values, raw text, bytes', () => {
    const r = redactExchange(exchange, [['SECRETTOKEN123456', '<identity-1>']])
    expect(JSON.stringify(r)).not.toContain('SECRETTOKEN123456')
    const rb = r.response!.body
    expect(rb.kind === 'bytes' && Buffer.from(rb.base64, 'base64').toString()).toBe('..<identity-1>..')
    expect(r.request.body.kind === 'json' && r.request.body.raw).toBe('{"<identity-1>": ["<identity-1>"]}')
  })

  it('maps node error codes to stable codes, and reads mockttp tags', () => {
    expect(exchangeErrorCode('ECONNREFUSED')).toBe('UPSTREAM_UNREACHABLE')
    expect(exchangeErrorCode('ENOTFOUND')).toBe('UPSTREAM_UNREACHABLE')
    expect(exchangeErrorCode('SELF_SIGNED_CERT_IN_CHAIN')).toBe('UPSTREAM_TLS')
    expect(exchangeErrorCode('ERR_TLS_CERT_ALTNAME_INVALID')).toBe('UPSTREAM_TLS')
    expect(exchangeErrorCode('ETIMEDOUT')).toBe('TIMEOUT')
    expect(exchangeErrorCode('ECONNRESET')).toBe('UPSTREAM_RESET')
    expect(passthroughErrorCode(['x', 'passthrough-error:ECONNREFUSED'])).toBe('ECONNREFUSED')
    expect(passthroughErrorCode(['passthrough-tls-error:ssl-alert-42'])).toBeNull()
  })

  it('shows seq, method, path, outcome, identity, time and size, with tokens masked', () => {
    const line = consoleLine(exchange, ['SECRETTOKEN123456'])
    expect(line).toBe('#3 POST /public/api/v1/chats/history?t=SECR…3456  200 application/octet-stream  identity-1  38ms  21 B')
    const failed = consoleLine({ ...exchange, response: null, error: { code: 'UPSTREAM_UNREACHABLE', message: 'x' } }, [])
    expect(failed).toContain('  UPSTREAM_UNREACHABLE  ')
  })
})
