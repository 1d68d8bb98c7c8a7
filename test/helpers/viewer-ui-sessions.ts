/** Session files the viewer UI's browser tests generate: a long session, a session with a big body. */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Exchange, Session } from '../../model/session.js'
import { SESSION_FORMAT } from '../../model/session.js'
import { jsonResponse } from './exchange-factory.js'

/** One recorded call; every `errorEvery`-th answers an envelope error, so filters have something to find. */
export function listExchange(seq: number, options: { errorEvery?: number; result?: unknown } = {}): Exchange {
  const failed = options.errorEvery !== undefined && seq % options.errorEvery === 0
  const json = failed
    ? { OK: false, Error: { Code: 'RATE_LIMITED', Message: `slow down (${seq})` }, Result: null }
    : { OK: true, Error: null, Result: options.result ?? [{ Id: seq, ClientId: 11, Text: `message ${seq}` }], Rels: { Clients: [{ Id: 11, Name: 'Ivan Petrov' }] } }
  return {
    seq,
    id: `gen-${seq}`,
    startedAt: new Date(Date.UTC(2026, 10, 20, 10, 0, 0) + seq * 250).toISOString(),
    durationMs: 5 + (seq % 40),
    request: {
      method: 'POST',
      url: `https://api.example.test/public/api/v1/chats/${seq % 3 === 0 ? 'history' : 'channel/send/support'}`,
      httpVersion: '1.1',
      headers: [
        ['Host', 'api.example.test'],
        ['Content-Type', 'application/json'],
      ],
      body: { kind: 'json', json: { LocalId: 1_500_000_000_000 + seq, Text: `message ${seq}` }, contentType: 'application/json', size: 48 },
      auth: { via: 'cookie', identity: seq % 2 ? 'identity-1' : 'identity-2' },
    },
    response: jsonResponse(json),
    error: null,
  }
}

export function sessionOf(name: string, exchanges: Exchange[]): Session {
  return {
    format: SESSION_FORMAT,
    name,
    createdAt: '2026-11-20T10:00:00.000Z',
    recording: { tool: 'reltape/0.1.0', mode: 'reverse', upstream: 'https://api.example.test' },
    identities: [
      { alias: 'identity-1', tokenHash: 'aaaaaaaaaaaa', label: null },
      { alias: 'identity-2', tokenHash: 'bbbbbbbbbbbb', label: null },
    ],
    exchanges,
  }
}

/** Writes `<dir>/<name>.json` with `count` exchanges, one in `errorEvery` an envelope error. */
export async function writeLongSession(dir: string, name: string, count: number, errorEvery = 97): Promise<void> {
  const exchanges = Array.from({ length: count }, (_, i) => listExchange(i + 1, { errorEvery }))
  await writeFile(join(dir, `${name}.json`), JSON.stringify(sessionOf(name, exchanges)), { mode: 0o600 })
}
