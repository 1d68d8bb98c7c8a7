/** The exchange list's filter language and "copy as cURL": pure functions of the viewer UI. */
import { describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import type { ExchangeSummary } from '../model/summary.js'
import { toCurl } from '../viewer/ui/src/curl.js'
import { compileFilter, parseFilter } from '../viewer/ui/src/filter.js'

function row(over: Partial<ExchangeSummary>): ExchangeSummary {
  return {
    seq: 1, id: 'x', startedAt: '2026-11-20T10:00:00.000Z', method: 'POST', path: '/public/api/v1/chats/history', host: 'dev.iqstore.ru',
    status: 200, ok: true, errorCode: null, transportError: null, identity: 'identity-1', durationMs: 10, requestSize: 10, responseSize: 10,
    resultCount: 1, relsTypes: [], contentType: 'application/json', ...over,
  }
}

const rows = [
  row({ seq: 1 }),
  row({ seq: 2, ok: false, errorCode: 'ACCESS_DENIED', identity: 'identity-10' }),
  row({ seq: 3, ok: null, status: null, transportError: 'UPSTREAM_UNREACHABLE', path: '/public/api/v1/chats/list', identity: 'identity-2' }),
  row({ seq: 4, ok: null, status: 404, path: '/files/download/a.png', method: 'GET', identity: null }),
]
const seqs = (text: string) => rows.filter(compileFilter(text) ?? (() => true)).map((r) => r.seq)

describe('viewer UI filter', () => {
  it('ok:false finds envelope errors and transport failures; ok:true only clean envelopes', () => {
    expect(seqs('ok:false')).toEqual([2, 3])
    expect(seqs('ok:true')).toEqual([1])
  })

  it('path:, identity:, status:, error:, method: and free words combine, and - negates', () => {
    expect(seqs('path:/chats/')).toEqual([1, 2, 3])
    expect(seqs('identity:identity-1')).toEqual([1])
    expect(seqs('identity:identity-1*')).toEqual([1, 2])
    expect(seqs('identity:none')).toEqual([4])
    expect(seqs('status:4xx')).toEqual([4])
    expect(seqs('status:none')).toEqual([3])
    expect(seqs('status:>=300')).toEqual([4])
    expect(seqs('error:denied')).toEqual([2])
    expect(seqs('error:*')).toEqual([2, 3])
    expect(seqs('method:get')).toEqual([4])
    expect(seqs('history -ok:false')).toEqual([1])
    expect(seqs('"chats/list"')).toEqual([3])
    expect(seqs('')).toEqual([1, 2, 3, 4])
  })

  it('an unknown key is free text, and a bad ok: value is reported', () => {
    expect(parseFilter('https://dev.iqstore.ru').terms).toEqual([{ key: null, value: 'https://dev.iqstore.ru', negate: false }])
    expect(parseFilter('ok:maybe').problems).toEqual(['ok: takes true or false, not "maybe"'])
  })
})

describe('viewer UI copy as cURL', () => {
  const token = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'
  const exchange = {
    seq: 1, id: 'x', startedAt: '2026-11-20T10:00:00.000Z', durationMs: 1, error: null, response: null,
    request: {
      method: 'POST', url: "https://dev.iqstore.ru/public/api/v1/chats/channel/send/support", httpVersion: '1.1',
      headers: [['Host', 'dev.iqstore.ru'], ['Content-Length', '40'], ['Content-Type', 'application/json'], ['Cookie', `client-session=${token}`], ['Accept-Encoding', 'gzip']],
      body: { kind: 'json', json: { LocalId: 1, Text: "it's" }, contentType: 'application/json', size: 40 },
      auth: { via: 'cookie', identity: 'identity-1' },
    },
  } satisfies Exchange

  it('masks the token unless revealed, quotes for the shell, and drops headers curl computes', () => {
    const masked = toCurl(exchange, false)
    expect(masked.split(' \\\n  ')).toEqual([
      "curl -X POST 'https://dev.iqstore.ru/public/api/v1/chats/channel/send/support'",
      "-H 'Content-Type: application/json'",
      "-H 'Cookie: client-session=973b…71ee'",
      "-H 'Accept-Encoding: gzip'",
      `--data-raw '{"LocalId":1,"Text":"it'\\''s"}'`,
      '--compressed',
    ])
    expect(toCurl(exchange, true)).toContain(`client-session=${token}'`)
  })
})
