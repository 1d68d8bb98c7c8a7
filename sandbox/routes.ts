/**
 * The sandbox API: one handler per method under /public/api/v1/. Each gets the caller's role and the
 * parsed body and returns an envelope, or takes over the reply itself (downloads, debug answers).
 */
import type { FastifyReply, FastifyRequest } from 'fastify'
import { fail, ok, sendBytes, sendEnvelope, sendJsonText, type Envelope } from './http.js'
import { parseMultipart } from './multipart.js'
import { relsFor } from './rels.js'
import { CHAT_ID, CUSTOMER_CLIENT_ID, type SandboxState } from './state.js'
import type { SandboxRole } from './tokens.js'

export type CallContext = {
  state: SandboxState
  role: SandboxRole
  /** The JSON body when it was one (an object), else an empty object. */
  body: Record<string, unknown>
  raw: Buffer
  request: FastifyRequest
  reply: FastifyReply
}

/** Returned by a handler that sent its answer itself (file bytes, deliberately odd bodies). */
export const ANSWERED = Symbol('answered')

/** A handler returns the envelope to send, or ANSWERED. */
export type Handler = (ctx: CallContext) => Promise<Envelope | typeof ANSWERED> | Envelope | typeof ANSWERED

export const MAX_DELAY_MS = 30_000
export const MAX_BIG_BYTES = 60 * 1024 * 1024

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null)

export const handlers: Record<string, Handler> = {
  'chats/channel/send/support': ({ state, role, body }) => {
    const text = str(body.Text)
    if (text === null) return fail('BadRequest', 'Text must be a string')
    const created = state.send(role, { LocalId: num(body.LocalId), Payload: str(body.Payload) ?? 'text', Text: text })
    return ok(state.view(role, created), relsFor(state, { clientIds: created.map((m) => m.ClientId), userIds: created.map((m) => m.UserId) }))
  },

  'chats/history': ({ state, role, body }) => {
    const chatId = num(body.ChatId) ?? CHAT_ID
    const limit = Math.max(0, Math.min(num(body.Limit) ?? 50, 500))
    const shown = chatId === CHAT_ID && limit > 0 ? state.messages.slice(-limit) : []
    // The chat's customer is always in Rels, even before anyone wrote.
    const clientIds = chatId === CHAT_ID ? [CUSTOMER_CLIENT_ID, ...shown.map((m) => m.ClientId)] : []
    return ok(state.view(role, shown), relsFor(state, { clientIds, userIds: shown.map((m) => m.UserId) }))
  },

  'clients/get': ({ state, body }) => {
    const id = num(body.Id)
    const client = id === null ? undefined : state.clients.get(id)
    if (!client) return fail('NotFound', `client ${JSON.stringify(body.Id ?? null)} not found`)
    const rels = relsFor(state, { clientIds: [client.Id] })
    return ok(client, { ...rels, Clients: rels.Clients.filter((c) => c.Id !== client.Id) })
  },

  // The real API refuses to close a ticket that is already closed: the sandbox's only ticket always is.
  'tickets/close': ({ body }) => fail('TicketClosed', `ticket ${JSON.stringify(body.Id ?? null)} is already closed`),

  'files/upload': async ({ state, role, raw, request }) => {
    const type = request.headers['content-type'] ?? ''
    if (!/^multipart\/form-data/i.test(type)) return fail('BadRequest', 'files/upload takes multipart/form-data with a "file" part')
    let form
    try {
      form = await parseMultipart(raw, type)
    } catch (e) {
      return fail('BadRequest', `unreadable multipart body: ${(e as Error).message}`)
    }
    const part = form.files.find((f) => f.name === 'file') ?? form.files[0]
    if (!part) return fail('BadRequest', 'no file part in the upload')
    const record = state.addFile(role, part.fileName || 'upload.bin', part.contentType, part.bytes)
    return ok(record, relsFor(state, { clientIds: [record.OwnerClientId, record.ClientId], userIds: [record.UserId] }))
  },

  'files/download': ({ state, body, request, reply }) => {
    const id = str(body.Id)
    const file = id === null ? undefined : state.files.get(id)
    if (!file) return fail('NotFound', `file ${JSON.stringify(body.Id ?? null)} not found`)
    sendBytes(request, reply, file.bytes, file.record.ContentType || 'application/octet-stream', file.record.Name)
    return ANSWERED
  },

  'debug/delay': async ({ body }) => {
    const ms = Math.max(0, Math.min(num(body.Ms) ?? 0, MAX_DELAY_MS))
    await new Promise((resolve) => setTimeout(resolve, ms))
    return ok({ DelayedMs: ms })
  },

  // A body that claims to be JSON and is not: for the recorder's handling of bad input.
  'debug/invalid-json': ({ request, reply }) => {
    sendJsonText(request, reply, '{"OK": true, "Error": null, "Result": [1, 2,')
    return ANSWERED
  },

  'debug/big': ({ request, reply, body }) => {
    const bytes = Math.max(0, Math.min(num(body.Bytes) ?? 1024, MAX_BIG_BYTES))
    sendEnvelope(request, reply, ok(bigResult(bytes)))
    return ANSWERED
  },
}

/** Rows of repetitive text that add up to about `bytes` of JSON. */
function bigResult(bytes: number): string[] {
  const row = 'sandbox filler row: the quick brown fox jumps over the lazy dog 0123456789'
  const count = Math.max(0, Math.floor((bytes - 60) / (row.length + 3)))
  return Array.from({ length: count }, () => row)
}
