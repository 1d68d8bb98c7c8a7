/**
 * A scripted support chat against the API: the customer (token in a cookie) and the operator (token in
 * `Authorization: Client`) read the history, write, read again, look up a client, fail to close a ticket,
 * upload a text file and download files. Used by `reltape demo` (through the recorder) and by tests.
 * Deterministic apart from LocalId (the client's clock) and the server's timestamps.
 */
import { fetch, FormData, type Dispatcher, type Response } from 'undici'
import { AVATAR_FILE_ID, CUSTOMER_CLIENT_ID, TEXT_FILE_ID } from './state.js'
import { SANDBOX_TOKENS, type SandboxRole } from './tokens.js'

export type StoryOptions = {
  /** The API base, e.g. `https://localhost:8443` (the sandbox's `url`, or the recorder's in reverse mode). */
  apiUrl: string
  /** How to reach it: e.g. an undici ProxyAgent through the recorder, or an Agent that trusts reltape's CA. */
  dispatcher?: Dispatcher
  /** One line per call; default: silent. */
  log?: (line: string) => void
}

export type StoryStep = {
  method: string
  identity: SandboxRole
  status: number
  /** The envelope's OK; for a download, whether bytes came back (not an envelope). */
  ok: boolean
  errorCode: string | null
  contentType: string
  bytes: number
}

export type StoryResult = {
  calls: number
  /** Calls whose envelope said OK (or downloads that returned bytes). */
  ok: number
  /** Calls that failed: envelope OK:false, or a transport error (status 0, errorCode from undici, e.g. ECONNREFUSED). */
  failures: number
  /** Decoded response bytes, summed. */
  bytes: number
  steps: StoryStep[]
}

/** The calls the story makes, in order; tests and the demo can compare against it. */
export const STORY_PLAN = [
  'chats/history', 'chats/channel/send/support', 'chats/channel/send/support', 'chats/history', 'clients/get',
  'tickets/close', 'files/upload', 'files/download', 'files/download', 'files/download',
] as const

type CallResult = { step: StoryStep; envelope: { OK?: unknown; Error?: { Code?: unknown } | null; Result?: unknown } | null; body: Buffer }

export async function playStory(options: StoryOptions): Promise<StoryResult> {
  const base = options.apiUrl.replace(/\/+$/, '') + '/public/api/v1/'
  const log = options.log ?? (() => {})
  const steps: StoryStep[] = []

  const call = async (method: string, identity: SandboxRole, body: unknown, download = false): Promise<CallResult> => {
    const token = SANDBOX_TOKENS[identity]
    // The customer's widget rides on its cookie; the operator's back office sends the header.
    const auth: Record<string, string> = identity === 'customer' ? { Cookie: `client-session=${token}` } : { Authorization: `Client ${token}` }
    const isForm = body instanceof FormData
    let response: Response
    let bytes: Buffer
    try {
      response = await fetch(base + method, {
        method: 'POST',
        headers: { ...auth, Accept: download ? '*/*' : 'application/json', 'Accept-Encoding': 'gzip, deflate, br', ...(isForm ? {} : { 'Content-Type': 'application/json' }) },
        body: isForm ? body : JSON.stringify(body),
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      })
      bytes = Buffer.from(await response.arrayBuffer())
    } catch (e) {
      // A transport failure is a failed step, not the end of the story: the demo shows it and goes on.
      const err = e as Error & { cause?: { code?: string; message?: string } }
      const code = err.cause?.code ?? (err as { code?: string }).code ?? 'FETCH_FAILED'
      const step: StoryStep = { method, identity, status: 0, ok: false, errorCode: code, contentType: '', bytes: 0 }
      steps.push(step)
      log(`${identity.padEnd(8)} ${method.padEnd(28)} failed: ${code} ${err.cause?.message ?? err.message}`)
      return { step, envelope: null, body: Buffer.alloc(0) }
    }
    const contentType = response.headers.get('content-type') ?? ''
    let envelope: CallResult['envelope'] = null
    if (contentType.includes('json')) {
      try {
        envelope = JSON.parse(bytes.toString('utf8')) as CallResult['envelope']
      } catch {
        envelope = null
      }
    }
    const ok = envelope ? envelope.OK === true : download && response.status === 200 && bytes.length > 0
    const code = envelope?.Error && typeof envelope.Error.Code === 'string' ? envelope.Error.Code : null
    const step: StoryStep = { method, identity, status: response.status, ok, errorCode: code, contentType, bytes: bytes.length }
    steps.push(step)
    log(`${identity.padEnd(8)} ${method.padEnd(28)} ${response.status} ${ok ? 'OK' : `Error ${code ?? '?'}`} ${bytes.length} B`)
    return { step, envelope, body: bytes }
  }

  await call('chats/history', 'customer', { ChatId: 10, Limit: 50 })
  await call('chats/channel/send/support', 'customer', { LocalId: Date.now(), Payload: 'text', Text: 'Hello, my order has not arrived' })
  await call('chats/channel/send/support', 'operator', { LocalId: Date.now(), Payload: 'text', Text: 'Sorry about that! Let me check.' })
  await call('chats/history', 'customer', { ChatId: 10, Limit: 50 })
  await call('clients/get', 'operator', { Id: CUSTOMER_CLIENT_ID })
  await call('tickets/close', 'operator', { Id: 1 })

  const form = new FormData()
  form.append('ChatId', '10')
  form.append('file', new Blob(['order #4711\ntracking: none yet\n'], { type: 'text/plain' }), 'order-4711.txt')
  const upload = await call('files/upload', 'customer', form)
  const uploaded = upload.envelope?.Result as { Id?: unknown } | null | undefined

  await call('files/download', 'customer', { Id: AVATAR_FILE_ID }, true)
  await call('files/download', 'operator', { Id: TEXT_FILE_ID }, true)
  await call('files/download', 'operator', { Id: typeof uploaded?.Id === 'string' ? uploaded.Id : 'missing-upload.txt' }, true)

  const ok = steps.filter((s) => s.ok).length
  return { calls: steps.length, ok, failures: steps.length - ok, bytes: steps.reduce((n, s) => n + s.bytes, 0), steps }
}
