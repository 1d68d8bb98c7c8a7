/**
 * A tester replays a session holding deeply nested JSON bodies (8,000 and 100,000 levels: a recursive serializer's
 * output, or an attack the recorder saw): replay starts, matches and answers them byte for byte, explains a miss on
 * one in a line, and a body it cannot write back out is named by file and exchange instead of a stack overflow.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { canonicalJson, parseFieldPath, valuesAt } from '../../model/match.js'
import { exceedsJsonDepth, MAX_JSON_DEPTH } from '../../model/json-depth.js'
import { startReplay, type ReplayHandle } from '../../replay/start-replay.js'
import { DEEP_PATHS, DEEP_REQUEST_TEXT, DEEP_RESPONSE_TEXT, deepText, PARSED_RESPONSE_TEXT, writeDeepSession } from '../helpers/deep-session.js'
import { tempDir } from '../helpers/exchange-factory.js'

let dir: string
let file: string
let replay: ReplayHandle

beforeAll(async () => {
  dir = await tempDir('reltape-deep-')
  file = await writeDeepSession(dir)
  replay = await startReplay({ session: 'deep', dir })
})

afterAll(async () => {
  await replay?.close()
  await rm(dir, { recursive: true, force: true })
})

const post = (path: string, body: string) => fetch(replay.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

describe('replaying deeply nested JSON', () => {
  it('starts, and answers a request whose recorded body is 8,000 levels deep, echoing its LocalId', async () => {
    const res = await post(DEEP_PATHS.request, DEEP_REQUEST_TEXT.replace('"LocalId":1', '"LocalId":77'))
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ OK: true, Error: null, Result: { LocalId: 77 }, Rels: {} })
  })

  it('serves a 100,000-level response as recorded, and one stored parsed (3,000 levels) as its text', async () => {
    const deep = await post(DEEP_PATHS.response, '{"ChatId":2}')
    expect(deep.status).toBe(200)
    expect(await deep.text()).toBe(DEEP_RESPONSE_TEXT)
    const parsed = await post(DEEP_PATHS.parsed, '{"ChatId":3}')
    expect(await parsed.text()).toBe(PARSED_RESPONSE_TEXT)
  })

  it('explains a miss on a deep body in one line instead of listing every level', async () => {
    const res = await post(DEEP_PATHS.request, DEEP_REQUEST_TEXT.replace('{"a":1}', '{"a":2}'))
    expect(res.status).toBe(404)
    const body = (await res.json()) as { Error: { Message: string; Nearest: { Differs: string[] } } }
    expect(body.Error.Nearest.Differs).toEqual([`body: differs (JSON nested deeper than ${MAX_JSON_DEPTH} levels: not compared field by field)`])
  })

  it('a body stored parsed and too deep to write back out: the answer names the file and the exchange', async () => {
    const res = await post(DEEP_PATHS.unwritable, '{"ChatId":4}')
    expect(res.status).toBe(500)
    const body = (await res.json()) as { Error: { Code: string; Message: string } }
    expect(body.Error.Code).toBe('ReplayError')
    expect(body.Error.Message).toContain(`${file}: exchange #4 response.body.json: JSON nested deeper than ${MAX_JSON_DEPTH} levels, stored without its text`)
    // The rest of the session is still served.
    expect((await post(DEEP_PATHS.parsed, '{"ChatId":3}')).status).toBe(200)
  })
})

describe('one depth limit, and walks that never recurse', () => {
  it('MAX_JSON_DEPTH levels are JSON, one more is too deep', () => {
    expect(exceedsJsonDepth(JSON.parse(deepText(MAX_JSON_DEPTH)))).toBe(false)
    expect(exceedsJsonDepth(JSON.parse(deepText(MAX_JSON_DEPTH + 1)))).toBe(true)
    expect(exceedsJsonDepth(JSON.parse(`[${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}]`))).toBe(true)
    expect(exceedsJsonDepth('a string')).toBe(false)
  })

  it('the key and echo fields work on a 100,000-level body, with ignored fields left out', () => {
    const deep = JSON.parse(`{"LocalId":5,"Items":${'['.repeat(100_000)}{"LocalId":6,"X":1}${']'.repeat(100_000)}}`) as unknown
    const key = canonicalJson(deep, ['LocalId', 'Items.LocalId'].map(parseFieldPath))
    expect(key.startsWith('{"Items":[[[')).toBe(true)
    expect(key).toContain('{"X":1}')
    expect(key).not.toContain('LocalId')
    expect(valuesAt(deep, parseFieldPath('Items.LocalId'))).toEqual([6])
  })
})
