/**
 * A session file with deeply nested JSON bodies, written as text (JSON.stringify cannot write them): what a recorder
 * stores for them (text), what an older one stored (parsed, within V8's reach), and what only a hand-made file holds
 * (parsed and too deep to write back out).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Body, Exchange } from '../../model/session.js'
import { makeExchange } from './exchange-factory.js'

/** `{"a":{"a":…1…}}`, `depth` levels. */
export function deepText(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)
}

export const DEEP_PATHS = {
  /** The request body is 8,000 levels deep, stored as text. */
  request: '/public/api/v1/deep/request',
  /** The response body is 100,000 levels deep, stored as text. */
  response: '/public/api/v1/deep/response',
  /** The response body is 3,000 levels deep, stored parsed (an older recorder). */
  parsed: '/public/api/v1/deep/parsed',
  /** The response body is 8,000 levels deep, stored parsed without its text (hand-made). */
  unwritable: '/public/api/v1/deep/unwritable',
  /** The envelope's Error is 8,000 levels deep, stored parsed (hand-made). */
  deepError: '/public/api/v1/deep/error',
  /** The response body is exactly MAX_JSON_DEPTH (1,000) levels deep, stored parsed. */
  atLimit: '/public/api/v1/deep/at-limit',
} as const

const JSON_TYPE = 'application/json; charset=utf-8'

export const DEEP_REQUEST_TEXT = `{"LocalId":1,"Tree":${deepText(8000)}}`
export const DEEP_RESPONSE_TEXT = `{"OK":true,"Error":null,"Result":${deepText(100_000)},"Rels":{}}`
export const PARSED_RESPONSE_TEXT = `{"OK":true,"Error":null,"Result":${deepText(3000)},"Rels":{}}`

function exchange(seq: number, path: string, request: Body, response: Body): Exchange {
  const e = makeExchange(seq)
  e.request.url = `https://api.example.test${path}`
  e.request.headers = [['Host', 'api.example.test'], ['Content-Type', 'application/json']]
  e.request.body = request
  e.response!.body = response
  return e
}

const text = (t: string): Body => ({ kind: 'text', text: t, contentType: JSON_TYPE, size: t.length })
/** A parsed body whose JSON is spliced in as text afterwards (`marker` stands for it). */
const parsed = (marker: string, size: number): Body => ({ kind: 'json', json: marker, contentType: JSON_TYPE, size })

/** Writes `sessions/deep.json` into `dir`; returns its path. */
export async function writeDeepSession(dir: string): Promise<string> {
  const small = (json: unknown): Body => ({ kind: 'json', json, contentType: JSON_TYPE, size: JSON.stringify(json).length })
  const exchanges = [
    exchange(1, DEEP_PATHS.request, text(DEEP_REQUEST_TEXT), small({ OK: true, Error: null, Result: { LocalId: 1 }, Rels: {} })),
    exchange(2, DEEP_PATHS.response, small({ ChatId: 2 }), text(DEEP_RESPONSE_TEXT)),
    exchange(3, DEEP_PATHS.parsed, small({ ChatId: 3 }), parsed('@PARSED@', PARSED_RESPONSE_TEXT.length)),
    exchange(4, DEEP_PATHS.unwritable, small({ ChatId: 4 }), parsed('@UNWRITABLE@', 48_000)),
    exchange(5, DEEP_PATHS.deepError, small({ ChatId: 5 }), parsed('@ERROR@', 48_000)),
    exchange(6, DEEP_PATHS.atLimit, small({ ChatId: 6 }), parsed('@AT_LIMIT@', 6000)),
  ]
  const lines = exchanges.map((e) =>
    JSON.stringify(e)
      .replace('"@PARSED@"', PARSED_RESPONSE_TEXT)
      .replace('"@UNWRITABLE@"', `{"OK":true,"Error":null,"Result":${deepText(8000)},"Rels":{}}`)
      .replace('"@ERROR@"', `{"OK":false,"Error":${deepText(8000)},"Result":null}`)
      .replace('"@AT_LIMIT@"', deepText(1000)),
  )
  const file = join(dir, 'deep.json')
  const head = '{"format":"reltape.session/1","name":"deep","createdAt":"2026-01-01T00:00:00.000Z","recording":{"tool":"test","mode":"forward","upstream":null},"exchanges":[\n'
  await writeFile(file, head + lines.join(',\n') + '\n],"identities":[]}\n', { mode: 0o600 })
  return file
}
