/**
 * A HAR's JSON text is classified from the string itself (store/har-body.ts), not from its bytes: it must come out
 * as the very body the recorder's classifier makes of the same bytes, and the JSON text it hands the writer must be
 * `JSON.stringify` of that body's value. The writer splices that text into the exchange's (store/exchange-text.ts):
 * the result must be `JSON.stringify(exchange)` to the byte.
 */
import { describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import { classifyBody } from '../store/body-decode.js'
import { exchangeTextParts } from '../store/exchange-text.js'
import { bodyFromHar } from '../store/har-body.js'
import { makeExchange } from './helpers/exchange-factory.js'

const ctx = { readFile: async () => null, warn: () => {} }
const big = JSON.stringify({ OK: true, Error: null, Result: Array.from({ length: 300 }, (_, i) => ({ Id: i, Text: `é ${i}` })), Rels: {} })

const texts: Array<[string, string]> = [
  ['canonical envelope', '{"OK":true,"Error":null,"Result":[{"Id":1}],"Rels":{}}'],
  ['a large canonical envelope', big],
  ['white space', '{"OK": true, "Result": [1, 2]}'],
  ['numbers written otherwise', '[1.0,2.50,1e3,-0,12345678901234567890]'],
  ['a duplicate key', '{"OK":false,"OK":true}'],
  ['keys that JSON.parse reorders', '{"b":1,"2":3}'],
  ['escapes written otherwise', '["\\u00e9","\\/","\\u001F"]'],
  ['non-ASCII as it is', '["emoji 😀 ünïcödé"]'],
  ['a lone surrogate', '["\ud800"]'],
  ['nested past the limit', '['.repeat(1001) + ']'.repeat(1001)],
  ['nested to the limit', '['.repeat(1000) + ']'.repeat(1000)],
  ['a duplicate key hiding depth', `{"a":${'['.repeat(1001)}${']'.repeat(1001)},"a":1}`],
  ['not JSON', '{"OK":tru'],
  ['a scalar', '42'],
  ['a large text with a key in a large array', JSON.stringify([{ x: 'y'.repeat(2000) }, { x: 'y'.repeat(2000), x2: 1 }])],
]

describe('a JSON body held as text in a HAR', () => {
  it.each(texts)('%s: the body the recorder makes of its bytes', async (_, text) => {
    for (const contentType of ['application/json', 'application/problem+json; charset=utf-8']) {
      const { body, jsonText } = await bodyFromHar({ mimeType: contentType, text }, { path: 'x', headers: [] }, ctx)
      const expected = classifyBody(Buffer.from(text, 'utf8'), contentType, { maxBody: Number.POSITIVE_INFINITY })
      expect(body).toEqual(expected)
      expect(JSON.stringify(body)).toBe(JSON.stringify(expected))
      if (jsonText !== undefined) {
        expect(body.kind).toBe('json')
        expect(jsonText).toBe(JSON.stringify((body as { json: unknown }).json))
      }
    }
  })
})

describe('an exchange serialised with the JSON text of its bodies', () => {
  const withBodies = (request: string, response: string): Exchange => {
    const e = makeExchange(3)
    e.request.body = { kind: 'json', json: JSON.parse(request), contentType: 'application/json', size: request.length }
    e.response!.body = { kind: 'json', json: JSON.parse(response), raw: ` ${response}`, contentType: 'application/json', size: response.length + 1 }
    return e
  }

  it.each([
    ['small bodies', '{"a":1}', '{"OK":true}'],
    ['a large answer', '{"a":1}', big],
    ['a large request and answer', big, big],
    ['a request that looks like the mark', JSON.stringify({ m: 'reltape-request-json-' + 'x'.repeat(1100) }), big],
  ])('%s: JSON.stringify(exchange), to the byte', (_, request, response) => {
    const e = withBodies(request, response)
    expect(exchangeTextParts(e, { request, response }).join('')).toBe(JSON.stringify(e))
    expect(exchangeTextParts(e, { response }).join('')).toBe(JSON.stringify(e))
    expect(exchangeTextParts(e, {}).join('')).toBe(JSON.stringify(e))
  })

  it('serialises a body that is not JSON as it is, whatever is known', () => {
    const e = makeExchange(4)
    e.request.body = { kind: 'text', text: big, contentType: 'text/plain', size: big.length }
    e.response!.body = { kind: 'empty' }
    expect(exchangeTextParts(e, { request: big, response: big }).join('')).toBe(JSON.stringify(e))
  })
})
