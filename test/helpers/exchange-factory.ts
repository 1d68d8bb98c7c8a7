/** Builds valid exchanges and sessions for store and model tests. */
import { randomUUID } from 'node:crypto'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Exchange, RecordedResponse } from '../../model/session.js'

export function makeExchange(seq: number, text = `message ${seq}`): Exchange {
  return {
    seq,
    id: randomUUID(),
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, seq % 60)).toISOString(),
    durationMs: 12,
    request: {
      method: 'POST',
      url: 'https://localhost:8443/public/api/v1/chats/channel/send/support',
      httpVersion: '1.1',
      headers: [
        ['Host', 'localhost:8443'],
        ['Content-Type', 'application/json'],
      ],
      body: { kind: 'json', json: { LocalId: 1000 + seq, Payload: 'text', Text: text }, contentType: 'application/json', size: 50 },
      auth: null,
    },
    response: {
      status: 200,
      statusText: 'OK',
      headers: [['Content-Type', 'application/json; charset=utf-8']],
      body: { kind: 'json', json: { OK: true, Error: null, Result: [{ Id: seq, Text: text }], Rels: {} }, contentType: 'application/json; charset=utf-8', size: 60 },
      contentEncoding: 'gzip',
    },
    error: null,
  }
}

/** A `200 OK` whose JSON body is `json`, as the recorder stores it (size: its compact text's length). */
export function jsonResponse(json: unknown): RecordedResponse {
  return {
    status: 200,
    statusText: 'OK',
    headers: [['Content-Type', 'application/json; charset=utf-8']],
    body: { kind: 'json', json, contentType: 'application/json; charset=utf-8', size: JSON.stringify(json).length },
    contentEncoding: null,
  }
}

export function tempDir(prefix = 'reltape-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix))
}
