/**
 * An example of testing your own API client offline with reltape: the way a user of reltape would write it.
 * The session `support-chat` was recorded once against the real API; the test replays it, so it runs
 * without network, without the real server and always gets the same answers.
 */
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, expect, test } from 'vitest'
// In your own project: import { startReplay, type ReplayHandle } from 'reltape'
import { startReplay, type ReplayHandle } from '../index.js'

// ---- The code under test: a small support-chat client, as an app would have it. ----

type Message = { Id: number; LocalId: number | null; Text: string }
type Envelope<T> = { OK: boolean; Error: { Code: string; Message?: string } | null; Result: T }

class SupportChat {
  /** Messages shown before the server confirmed them, by LocalId. */
  readonly pending = new Map<number, string>()

  constructor(
    private readonly baseUrl: string,
    private readonly token: string,
  ) {}

  private async call<T>(path: string, body: unknown): Promise<T> {
    const res = await fetch(this.baseUrl + path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: `client-session=${this.token}` },
      body: JSON.stringify(body),
    })
    const envelope = (await res.json()) as Envelope<T>
    if (!envelope.OK) throw new Error(`${path}: ${envelope.Error?.Code}: ${envelope.Error?.Message ?? ''}`)
    return envelope.Result
  }

  history(chatId: number): Promise<Message[]> {
    return this.call('/public/api/v1/chats/channel/history', { ChatId: chatId })
  }

  /** Shows the message at once, then pairs it with the stored one by its LocalId. */
  async send(text: string): Promise<Message> {
    const localId = Date.now()
    this.pending.set(localId, text)
    const [stored] = await this.call<Message[]>('/public/api/v1/chats/channel/send/support', { LocalId: localId, Payload: 'text', Text: text })
    if (!stored || stored.LocalId !== localId) throw new Error('the server did not confirm the message sent')
    this.pending.delete(localId)
    return stored
  }

  async avatar(fileId: string): Promise<Uint8Array> {
    const res = await fetch(this.baseUrl + '/public/api/v1/files/download', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Cookie: `client-session=${this.token}` },
      body: JSON.stringify({ FileId: fileId }),
    })
    if (res.headers.get('content-type') !== 'image/png') throw new Error('not an image')
    return new Uint8Array(await res.arrayBuffer())
  }
}

// ---- The test: the client against the replayed session. ----

const SESSION = fileURLToPath(new URL('./fixtures/replay/support-chat.json', import.meta.url))
let api: ReplayHandle

beforeEach(async () => {
  api = await startReplay({ session: SESSION, strict: true })
})

afterEach(async () => {
  await api.close()
})

test('a sent message is confirmed and shows up in the history', async () => {
  const chat = new SupportChat(api.url, 'any-token-works-offline')

  expect((await chat.history(10)).map((m) => m.Id)).toEqual([252])
  const stored = await chat.send('!')
  expect(stored.Id).toBe(255)
  expect(chat.pending.size).toBe(0)
  expect((await chat.history(10)).map((m) => m.Id)).toEqual([252, 255])
  const png = await chat.avatar('e83220a3-56cb-11e7-b21f-6109cf735b0f.png')
  expect([...png.subarray(1, 4)]).toEqual([0x50, 0x4e, 0x47]) // "PNG"

  // Every call was answered from the recording, and every recording was needed.
  expect(api.misses).toEqual([])
  expect(api.unused()).toEqual([])
})
