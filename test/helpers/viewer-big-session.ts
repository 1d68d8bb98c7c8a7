/**
 * Sessions for viewer tests: a big valid session written in one go, and a live session that grows
 * through the real SessionStore writer (journal first, folded into the file on close), as a recorder does.
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { SESSION_FORMAT, type Exchange, type Session } from '../../model/session.js'
import { SessionStore, type SessionWriter } from '../../store/store.js'
import { jsonResponse } from './exchange-factory.js'

const T0 = Date.parse('2026-11-20T10:00:00.000Z')

/** One envelope exchange (`POST /public/api/v1/chats/history`) with a client in Rels; every 10th is `OK: false`. */
export function makeExchange(seq: number, overrides: Partial<Exchange> = {}): Exchange {
  const failed = seq % 10 === 0
  const json = failed
    ? { OK: false, Error: { Code: 'NOT_FOUND', Message: `chat ${seq} not found` }, Result: null }
    : {
        OK: true,
        Error: null,
        Result: [{ Id: seq, ChatId: 10, ClientId: 11, UserId: null, Text: `message ${seq}` }],
        Rels: { Clients: [{ Id: 11, Name: 'Ivan Petrov' }] },
      }
  const request = JSON.stringify({ ChatId: 10, Limit: 50 })
  return {
    seq,
    id: `big-${seq}`,
    startedAt: new Date(T0 + seq * 100).toISOString(),
    durationMs: 5 + (seq % 7),
    request: {
      method: 'POST',
      url: `http://dev.iqstore.ru/public/api/v1/chats/history?n=${seq}`,
      httpVersion: '1.1',
      headers: [['Host', 'dev.iqstore.ru'], ['Content-Type', 'application/json']],
      body: { kind: 'json', json: JSON.parse(request), contentType: 'application/json', size: request.length },
      auth: { via: 'cookie', identity: 'identity-1' },
    },
    response: jsonResponse(json),
    error: null,
    ...overrides,
  }
}

/** Writes `<dir>/<name>.json` holding `n` valid exchanges (seq 1…n). */
export async function writeBigSession(dir: string, name: string, n: number): Promise<string> {
  const session: Session = {
    format: SESSION_FORMAT,
    name,
    createdAt: new Date(T0).toISOString(),
    recording: { tool: 'reltape/test', mode: 'reverse', upstream: 'http://dev.iqstore.ru' },
    identities: [{ alias: 'identity-1', tokenHash: '0123456789ab', label: null }],
    exchanges: Array.from({ length: n }, (_, i) => makeExchange(i + 1)),
  }
  const file = join(dir, `${name}.json`)
  await writeFile(file, JSON.stringify(session), { mode: 0o600 })
  return file
}

const writers = new Map<string, SessionWriter>()

/**
 * Appends an exchange the way a recorder does: through an open SessionWriter, so it lands in the
 * journal at once. The writer stays open (the session is "being recorded") until `closeSessions()`.
 */
export async function appendExchange(dir: string, name: string, exchange: Exchange): Promise<void> {
  const key = join(dir, name)
  let writer = writers.get(key)
  if (!writer) {
    writer = await new SessionStore(dir).open(name, { recording: { tool: 'reltape/test', mode: 'reverse', upstream: null }, warn: () => undefined })
    writers.set(key, writer)
  }
  writer.append(exchange)
}

/** Closes the writers `appendExchange` opened (folding each journal into its file); with a name, only that one. */
export async function closeSessions(dir?: string, name?: string): Promise<void> {
  for (const [key, writer] of [...writers]) {
    if (dir !== undefined && name !== undefined && key !== join(dir, name)) continue
    writers.delete(key)
    await writer.close()
  }
}
