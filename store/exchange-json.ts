/**
 * An exchange's JSON text, made without serialising its JSON bodies a second time. The recorder parses each
 * JSON body once (to validate it and to know whether re-serialising gives back its exact text); when it does,
 * that text is remembered here and spliced into the exchange's line instead of running `JSON.stringify` over
 * the parsed value again. The result is always the same string as `JSON.stringify(exchange)`.
 */
import type { Body, Exchange, RecordedRequest, RecordedResponse } from '../model/session.js'

/** Bodies whose `json` serialises to exactly this text. A body is not changed once it is classified. */
const canonicalText = new WeakMap<Body, string>()

/** Remembers that `JSON.stringify(body.json) === text` (checked by the caller, which has both at hand). */
export function rememberJsonText(body: Body, text: string): void {
  canonicalText.set(body, text)
}

function bodyJson(body: Body): string | undefined {
  if (body.kind !== 'json') return undefined
  const text = canonicalText.get(body)
  if (text === undefined) return undefined
  const { kind: _kind, json: _json, ...rest } = body
  const tail = JSON.stringify(rest)
  return `{"kind":"json","json":${text}${tail === '{}' ? '}' : `,${tail.slice(1)}`}`
}

/**
 * `JSON.stringify(message)` with the body's text put in. Only the message's own `body` key can read `"body":0`:
 * the keys before it hold strings and arrays of strings, in which a quote is always escaped.
 */
function messageJson(message: RecordedRequest | RecordedResponse, body: string | undefined): string {
  if (body === undefined) return JSON.stringify(message)
  const shell = JSON.stringify({ ...message, body: 0 })
  const at = shell.indexOf('"body":0')
  return `${shell.slice(0, at + 7)}${body}${shell.slice(at + 8)}`
}

/** The compact JSON text of an exchange: `JSON.stringify(exchange)`, made faster for bodies the recorder classified. */
export function exchangeJson(exchange: Exchange): string {
  const requestBody = bodyJson(exchange.request.body)
  const responseBody = exchange.response ? bodyJson(exchange.response.body) : undefined
  if (requestBody === undefined && responseBody === undefined) return JSON.stringify(exchange)
  // seq, id, startedAt and durationMs are primitives: the first `"request":0` and `"response":0` are these keys.
  const shell = JSON.stringify({ ...exchange, request: 0, response: exchange.response === null ? null : 0 })
  const req = shell.indexOf('"request":0')
  let out = `${shell.slice(0, req + 10)}${messageJson(exchange.request, requestBody)}`
  if (exchange.response === null) return out + shell.slice(req + 11)
  const res = shell.indexOf('"response":0', req)
  out += `${shell.slice(req + 11, res + 11)}${messageJson(exchange.response, responseBody)}`
  return out + shell.slice(res + 12)
}
