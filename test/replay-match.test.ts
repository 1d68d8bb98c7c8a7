import { describe, expect, it } from 'vitest'
import {
  canonicalJson,
  describeDifference,
  differences,
  distance,
  keyOf,
  parseFieldPath,
  parseQuery,
  valuesAt,
  type MatchRules,
  type RequestShape,
} from '../model/match.js'

const rules = (over: Partial<MatchRules> = {}): MatchRules => ({
  ignoreFields: [parseFieldPath('LocalId')],
  matchIdentity: false,
  matchHost: false,
  ...over,
})

const shape = (over: Partial<RequestShape> = {}): RequestShape => ({
  method: 'POST',
  path: '/public/api/v1/chats/channel/send/support',
  query: [],
  host: 'dev.iqstore.ru',
  identity: 'identity-1',
  body: { kind: 'json', json: { LocalId: 1518171256447, Payload: 'text', Text: '!' } },
  ...over,
})

describe('field paths', () => {
  it('splits dotted paths and array items', () => {
    expect(parseFieldPath('LocalId')).toEqual(['LocalId'])
    expect(parseFieldPath('Message.LocalId')).toEqual(['Message', 'LocalId'])
    expect(parseFieldPath('Items[].LocalId')).toEqual(['Items', '*', 'LocalId'])
    expect(parseFieldPath('Items.*.LocalId')).toEqual(['Items', '*', 'LocalId'])
    expect(parseFieldPath('Items[2].Id')).toEqual(['Items', '2', 'Id'])
    expect(() => parseFieldPath('a..b')).toThrow(/not a field path/)
    expect(() => parseFieldPath('a[x]')).toThrow(/not a field path/)
  })

  it('finds values through objects and arrays', () => {
    const body = { Items: [{ LocalId: 1 }, { LocalId: 2 }], Meta: { LocalId: 3 } }
    expect(valuesAt(body, parseFieldPath('Items[].LocalId'))).toEqual([1, 2])
    expect(valuesAt(body, parseFieldPath('Items.LocalId'))).toEqual([1, 2])
    expect(valuesAt(body, parseFieldPath('Items[1].LocalId'))).toEqual([2])
    expect(valuesAt(body, parseFieldPath('Meta.LocalId'))).toEqual([3])
    expect(valuesAt(body, parseFieldPath('Nope'))).toEqual([])
  })
})

describe('canonical JSON', () => {
  it('sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, 1], c: null } })).toBe('{"a":{"c":null,"d":[3,1]},"b":1}')
  })

  it('leaves out ignored fields: top level, dotted, and in array items', () => {
    const ignore = ['LocalId', 'Meta.At', 'Items[].Tmp', 'List[0]'].map(parseFieldPath)
    const out = canonicalJson(
      { LocalId: 5, Text: 'x', Meta: { At: 1, Keep: 2 }, Items: [{ Tmp: 1, Id: 1 }, { Tmp: 2, Id: 2 }], List: ['gone', 'kept'] },
      ignore,
    )
    expect(out).toBe('{"Items":[{"Id":1},{"Id":2}],"List":["kept"],"Meta":{"Keep":2},"Text":"x"}')
  })

  it('reaches LocalId inside a list of messages with a plain dotted path', () => {
    const ignore = [parseFieldPath('Messages.LocalId')]
    expect(canonicalJson({ Messages: [{ LocalId: 1, T: 'a' }] }, ignore)).toBe(canonicalJson({ Messages: [{ LocalId: 999, T: 'a' }] }, ignore))
  })
})

describe('keys', () => {
  it('a new LocalId and another key order give the same key', () => {
    const live = shape({ body: { kind: 'json', json: { Text: '!', Payload: 'text', LocalId: 1700000000000 } } })
    expect(keyOf(live, rules())).toBe(keyOf(shape(), rules()))
  })

  it('another Text gives another key', () => {
    const live = shape({ body: { kind: 'json', json: { LocalId: 1, Payload: 'text', Text: '?' } } })
    expect(keyOf(live, rules())).not.toBe(keyOf(shape(), rules()))
  })

  it('sorts the query and ignores identity and host unless asked', () => {
    const a = shape({ query: [['b', '2'], ['a', '1']], identity: 'identity-2', host: 'other' })
    const b = shape({ query: [['a', '1'], ['b', '2']] })
    expect(keyOf(a, rules())).toBe(keyOf(b, rules()))
    expect(keyOf(a, rules({ matchIdentity: true }))).not.toBe(keyOf(b, rules({ matchIdentity: true })))
    expect(keyOf(a, rules({ matchHost: true }))).not.toBe(keyOf(b, rules({ matchHost: true })))
  })

  it('keys multipart by parts, never by boundary', () => {
    const part = { name: 'File', filename: 'a.txt', contentType: 'text/plain', digest: 'abc', size: 3 }
    const a = shape({ body: { kind: 'multipart', parts: [part] } })
    expect(keyOf(a, rules())).toBe(keyOf(shape({ body: { kind: 'multipart', parts: [{ ...part }] } }), rules()))
    expect(keyOf(a, rules())).not.toBe(keyOf(shape({ body: { kind: 'multipart', parts: [{ ...part, digest: 'abd' }] } }), rules()))
  })

  it('decodes query strings', () => {
    expect(parseQuery('a=1&b=x%20y&c=p+q&d&e=%zz')).toEqual([
      ['a', '1'],
      ['b', 'x y'],
      ['c', 'p q'],
      ['d', ''],
      ['e', '%zz'],
    ])
  })
})

describe('differences', () => {
  it('names the body field that differs', () => {
    const live = shape({ body: { kind: 'json', json: { LocalId: 1, Payload: 'text', Text: '?' } } })
    const d = differences(live, shape(), rules())
    expect(d.map(describeDifference)).toEqual(['body field Text'])
  })

  it('names the path, the method and a query parameter', () => {
    const live = shape({ method: 'GET', path: '/public/api/v1/chats/channel/send/other', query: [['page', '2']] })
    expect(differences(live, shape(), rules()).map(describeDifference)).toEqual([
      'method (GET, recorded POST)',
      'path (/public/api/v1/chats/channel/send/other, recorded /public/api/v1/chats/channel/send/support)',
      'query parameter page',
    ])
  })

  it('puts a recording on the same path nearer than one on another path', () => {
    const live = shape({ body: { kind: 'json', json: { Text: 'a', Payload: 'x', More: 1 } } })
    const samePath = distance(differences(live, shape(), rules()))
    const otherPath = distance(differences(live, shape({ path: '/public/api/v1/other', body: live.body }), rules()))
    expect(samePath).toBeLessThan(otherPath)
  })
})
