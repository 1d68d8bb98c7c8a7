/**
 * An exchange's JSON text, exactly as `JSON.stringify(exchange)` gives it, reusing the text of a JSON body that is
 * known already. Classifying a JSON body serialises its value once (to tell whether its text must be kept as `raw`);
 * an import that then serialised the exchange whole would serialise every answer a second time, the largest part of
 * what it writes.
 *
 * The exchange is serialised with each known body's value replaced by a mark, and the text comes back in parts
 * around the marks, each known text in its mark's place (parts, not one string: the writer copies each as it is,
 * where a concatenation would be copied once more to be flattened). A mark holds a random part made per process
 * and never written anywhere: a recorded string cannot hold it, so it is found where it was put.
 */
import { randomBytes } from 'node:crypto'
import type { Body, Exchange } from '../model/session.js'

/** `JSON.stringify(body.json)` of the request's and the response's body, where it is known. */
export type KnownBodyText = { request?: string; response?: string }

/** Below this length, serialising a body's value again costs less than finding its mark. */
const WORTH_A_MARK = 1024

const nonce = randomBytes(16).toString('hex')
const MARK = { request: `reltape-request-json-${nonce}`, response: `reltape-response-json-${nonce}` }
const MARK_TEXT = { request: JSON.stringify(MARK.request), response: JSON.stringify(MARK.response) }

function marked(body: Body, mark: string): Body {
  return { ...body, json: mark } as Body
}

/**
 * `JSON.stringify(exchange)` in parts, to be written one after the other, made with the known texts of its bodies'
 * JSON. The caller vouches that each known text is `JSON.stringify` of that body's `json`.
 */
export function exchangeTextParts(exchange: Exchange, known: KnownBodyText): string[] {
  const request = known.request !== undefined && known.request.length >= WORTH_A_MARK && exchange.request.body.kind === 'json'
  const response = known.response !== undefined && known.response.length >= WORTH_A_MARK && exchange.response?.body.kind === 'json'
  if (!request && !response) return [JSON.stringify(exchange)]
  const stub: Exchange = { ...exchange }
  if (request) stub.request = { ...exchange.request, body: marked(exchange.request.body, MARK.request) }
  if (response) stub.response = { ...exchange.response!, body: marked(exchange.response!.body, MARK.response) }
  const text = JSON.stringify(stub)
  // The request's mark comes early in the text, the response's late: each is looked for from its end.
  const parts: string[] = []
  let from = 0
  if (request) {
    const at = text.indexOf(MARK_TEXT.request)
    parts.push(text.slice(0, at), known.request!)
    from = at + MARK_TEXT.request.length
  }
  if (response) {
    const at = text.lastIndexOf(MARK_TEXT.response)
    parts.push(text.slice(from, at), known.response!)
    from = at + MARK_TEXT.response.length
  }
  parts.push(text.slice(from))
  return parts
}
