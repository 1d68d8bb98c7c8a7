/** The envelope-aware diff: what a tester wants to know about two answers to the same call. */
import { describe, expect, it } from 'vitest'
import { alignCalls, diffExchanges } from '../model/diff.js'
import { parseFieldPath } from '../model/match.js'
import type { Exchange } from '../model/session.js'
import { jsonResponse, makeExchange } from './helpers/exchange-factory.js'

const ignore = [parseFieldPath('LocalId')]

function answering(json: unknown, seq = 1): Exchange {
  return { ...makeExchange(seq), response: jsonResponse(json) }
}

const envelope = (over: Record<string, unknown> = {}) => ({
  OK: true,
  Error: null,
  Result: [
    { Id: 252, Text: 'Hello', LocalId: 1 },
    { Id: 253, Text: 'ticket opened', LocalId: 2 },
  ],
  Rels: { Clients: [{ Id: 11, Name: 'Ivan' }], Users: [{ Id: 1, Name: 'Ilya' }] },
  ...over,
})

describe('diffExchanges', () => {
  it('reports nothing for the same answer, whatever LocalId the client sent', () => {
    const b = envelope()
    ;(b.Result as { LocalId: number }[])[0]!.LocalId = 99
    expect(diffExchanges(answering(envelope()), answering(b), { ignore })).toEqual([])
  })

  it('names a renamed client by type and Id, and an inserted message as one added item, not every one after it', () => {
    const b = envelope({
      Result: [
        { Id: 251, Text: 'new first', LocalId: 7 },
        { Id: 252, Text: 'Hello', LocalId: 1 },
        { Id: 253, Text: 'ticket closed', LocalId: 2 },
      ],
      Rels: { Clients: [{ Id: 11, Name: 'Ivan Petrov' }], Users: [{ Id: 1, Name: 'Ilya' }], Files: [{ Id: 'a.png', Size: 3 }] },
    })
    expect(diffExchanges(answering(envelope()), answering(b), { ignore })).toEqual([
      { path: 'Result[Id=253].Text', kind: 'changed', a: 'ticket opened', b: 'ticket closed' },
      { path: 'Result[Id=251]', kind: 'added', b: { Id: 251, Text: 'new first' } },
      { path: 'Rels.Clients#11.Name', kind: 'changed', a: 'Ivan', b: 'Ivan Petrov' },
      { path: 'Rels.Files#a.png', kind: 'added', b: { Id: 'a.png', Size: 3 } },
    ])
  })

  it('reports an OK flip as OK changed plus the Error fields that appeared', () => {
    const failed = { OK: false, Error: { Code: 'NOT_FOUND', Message: 'no such chat' }, Result: null, Rels: {} }
    const changes = diffExchanges(answering(envelope()), answering(failed), { ignore })
    expect(changes.slice(0, 3)).toEqual([
      { path: 'OK', kind: 'changed', a: true, b: false },
      { path: 'Error.Code', kind: 'added', b: 'NOT_FOUND' },
      { path: 'Error.Message', kind: 'added', b: 'no such chat' },
    ])
    expect(changes.map((c) => c.path)).toContain('Rels.Clients#11')
  })

  it('leaves out the fields the user ignores, in replay\'s path syntax, for every item whatever its Id', () => {
    const b = envelope({ Result: [{ Id: 252, Text: 'Hello!', LocalId: 1 }, { Id: 253, Text: 'ticket opened!', LocalId: 2 }] })
    const more = [...ignore, parseFieldPath('Result[].Text')]
    expect(diffExchanges(answering(envelope()), answering(b), { ignore: more })).toEqual([])
    expect(diffExchanges(answering(envelope()), answering(b), { ignore })).toHaveLength(2)
  })

  it('compares a non-envelope body by its bytes, with sizes and types', () => {
    const a = { ...makeExchange(1), response: { ...jsonResponse({}), body: { kind: 'bytes' as const, base64: 'AAEC', contentType: 'image/png', size: 3 } } }
    const b = { ...a, response: { ...a.response, body: { kind: 'bytes' as const, base64: 'AAED', contentType: 'image/png', size: 3 } } }
    expect(diffExchanges(a, b, { ignore })).toEqual([
      { path: 'body', kind: 'changed', a: { kind: 'bytes', size: 3, contentType: 'image/png' }, b: { kind: 'bytes', size: 3, contentType: 'image/png' } },
    ])
    expect(diffExchanges(a, a, { ignore })).toEqual([])
  })

  it('reports a status change and a transport failure', () => {
    const a = answering(envelope())
    const b: Exchange = { ...a, response: { ...a.response!, status: 500 } }
    expect(diffExchanges(a, b, { ignore })).toEqual([{ path: 'status', kind: 'changed', a: 200, b: 500 }])
    const down: Exchange = { ...a, response: null, error: { code: 'UPSTREAM_UNREACHABLE', message: 'down' } }
    expect(diffExchanges(a, down, { ignore }).map((c) => c.path)).toEqual(['error', 'response'])
  })
})

describe('alignCalls', () => {
  it('pairs calls by key and occurrence, so one call added in the middle shows as that, not as every later one changed', () => {
    const a = [
      { seq: 1, key: 'h', label: 'POST /history' },
      { seq: 2, key: 's', label: 'POST /send' },
      { seq: 3, key: 'h', label: 'POST /history' },
    ]
    const b = [
      { seq: 1, key: 'h', label: 'POST /history' },
      { seq: 2, key: 'x', label: 'POST /extra' },
      { seq: 3, key: 's', label: 'POST /send' },
      { seq: 4, key: 'h', label: 'POST /history' },
    ]
    expect(alignCalls(a, b)).toEqual([
      { label: 'POST /history #1', a: 1, b: 1 },
      { label: 'POST /send #1', a: 2, b: 3 },
      { label: 'POST /history #2', a: 3, b: 4 },
      { label: 'POST /extra #1', a: null, b: 2 },
    ])
  })
})

describe('a body nested past the depth every part accepts', () => {
  it('is compared whole, as one change, without overflowing the stack', () => {
    const deep = (leaf: number) => {
      let v: unknown = leaf
      for (let i = 0; i < 3000; i++) v = { a: v }
      return { OK: true, Error: null, Result: v, Rels: {} }
    }
    expect(diffExchanges(answering(deep(1)), answering(deep(1)), { ignore })).toEqual([])
    expect(diffExchanges(answering(deep(1)), answering(deep(2)), { ignore }).map((c) => c.path)).toEqual(['body'])
  })
})
