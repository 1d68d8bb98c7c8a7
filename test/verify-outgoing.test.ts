/** How `reltape verify` turns a recorded request into the one it sends: the live API's address, the live token, a fresh LocalId. */
import { describe, expect, it } from 'vitest'
import type { RecordedRequest } from '../model/session.js'
import { localIdClock, outgoingRequest, placeholdersIn, swapsFor } from '../verify/outgoing.js'

const TOKEN = '5a9d0c6e1f2b3a4c5d6e7f8091a2b3c4d5e6f708.0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f'
const LIVE = 'b7e1c2d3a4f5061728394a5b6c7d8e9fa0b1c2d3.f1e2d3c4b5a69788796a5b4c3d2e1f00'

function send(token: string, body: unknown): RecordedRequest {
  const text = JSON.stringify(body)
  return {
    method: 'POST',
    url: 'https://127.0.0.1:8000/public/api/v1/chats/channel/send/support?x=1',
    httpVersion: '1.1',
    headers: [
      ['Host', '127.0.0.1:8000'],
      ['Cookie', `lang=en; client-session=${token}`],
      ['Content-Type', 'application/json'],
      ['Content-Encoding', 'gzip'],
      ['Content-Length', '999'],
    ],
    body: { kind: 'json', json: body, contentType: 'application/json', size: text.length },
    auth: { via: 'cookie', identity: 'identity-1' },
  }
}

describe('a recorded request sent again', () => {
  it('goes to the live API with its path and query, its own length, and a fresh LocalId wherever it had one', () => {
    const req = send(TOKEN, { LocalId: 1518171256447, Text: '!', Items: [{ LocalId: 1 }, { Id: 2 }] })
    const clock = localIdClock()
    const out = outgoingRequest(req, 'https://dev.example', swapsFor(req, {}), clock)
    expect(out.url).toBe('https://dev.example/public/api/v1/chats/channel/send/support?x=1')
    const body = JSON.parse(out.body.toString()) as { LocalId: number; Items: { LocalId?: number }[] }
    expect(body.LocalId).not.toBe(1518171256447)
    expect(body.Items[0]!.LocalId).toBeGreaterThan(body.LocalId)
    expect(out.headers).toEqual([
      ['host', 'dev.example'],
      ['Cookie', `lang=en; client-session=${TOKEN}`],
      ['Content-Type', 'application/json'],
      ['content-length', String(out.body.length)],
    ])
  })

  it('keeps the recorded bytes of a body without LocalId', () => {
    const req = send(TOKEN, { ChatId: 10 })
    req.body = { kind: 'json', json: { ChatId: 10 }, raw: '{ "ChatId": 10 }', contentType: 'application/json', size: 16 }
    expect(outgoingRequest(req, 'https://dev.example', [], localIdClock()).body.toString()).toBe('{ "ChatId": 10 }')
  })

  it('carries the token given for its identity instead of the recorded one', () => {
    const req = send(TOKEN, { Text: `mention ${TOKEN}` })
    const out = outgoingRequest(req, 'https://dev.example', swapsFor(req, { 'identity-1': LIVE }), localIdClock())
    expect(out.headers).toContainEqual(['Cookie', `lang=en; client-session=${LIVE}`])
    expect(out.body.toString()).toBe(JSON.stringify({ Text: `mention ${LIVE}` }))
  })

  it('fills the placeholders of a redacted session, and names those it has no token for', () => {
    const req = send('<identity-1>', { Other: '<identity-2>' })
    expect([...placeholdersIn(req)].sort()).toEqual(['identity-1', 'identity-2'])
    const swaps = swapsFor(req, { 'identity-1': LIVE })
    expect(swaps).toEqual([{ alias: 'identity-1', from: '<identity-1>', to: LIVE }])
    const out = outgoingRequest(req, 'https://dev.example', swaps, localIdClock())
    expect(out.headers).toContainEqual(['Cookie', `lang=en; client-session=${LIVE}`])
    expect(out.body.toString()).toBe('{"Other":"<identity-2>"}')
  })
})
