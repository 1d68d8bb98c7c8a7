/** Sessions written with reltape's own store, for the replay and viewer benchmarks. */
import { randomUUID } from 'node:crypto'
import type { Exchange, HeaderPair } from '../../model/session.js'
import { SessionStore } from '../../store/store.js'
import { API_PATH, sendSupportRequest, sendSupportResponse, TOKEN } from './envelope.js'

/** The n-th `send/support` exchange as the recorder stores it: the example envelope, echoing the request's LocalId. */
export function sendSupportExchange(seq: number, n: number, origin = 'https://localhost:8443'): Exchange {
  const requestText = sendSupportRequest(n)
  const request = JSON.parse(requestText) as { LocalId: number }
  const example = sendSupportResponse()
  const envelope = JSON.parse(example.json) as { Result: { LocalId: number }[] }
  if (envelope.Result[0]) envelope.Result[0].LocalId = request.LocalId
  const responseText = JSON.stringify(envelope)
  return {
    seq,
    id: randomUUID(),
    startedAt: new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString(),
    durationMs: 12,
    request: {
      method: 'POST',
      url: `${origin}${API_PATH}`,
      httpVersion: '1.1',
      headers: [
        ['Host', new URL(origin).host],
        ['Content-Type', 'application/json'],
        ['Cookie', `client-session=${TOKEN}`],
      ],
      body: { kind: 'json', json: request, contentType: 'application/json', size: requestText.length },
      auth: null,
    },
    response: {
      status: 200,
      statusText: 'OK',
      headers: example.headers.filter(([name]) => !/^(transfer-encoding|connection)$/i.test(name)) as HeaderPair[],
      body: { kind: 'json', json: envelope, contentType: 'application/json; charset=utf-8', size: responseText.length },
      contentEncoding: 'gzip',
    },
    error: null,
  } as Exchange
}

/** Writes a session of `count` send/support exchanges (request n has body `message n`) into `dir`. */
export async function writeSendSupportSession(dir: string, name: string, count: number): Promise<string> {
  const writer = await new SessionStore(dir).open(name, { recording: { tool: 'reltape-bench', mode: 'forward', upstream: null }, warn: () => {} })
  for (let n = 0; n < count; n++) writer.append(sendSupportExchange(writer.nextSeq(), n))
  await writer.close()
  return writer.paths.file
}
