/** Live updates over server-sent events, against a real viewer on a loopback port, while a session is written. */
import { EventEmitter } from 'node:events'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { ExchangePage, ExchangeSummary } from '../model/summary.js'
import type { FastifyReply } from 'fastify'
import { SessionReader, type SessionSummary } from '../store/store.js'
import { LiveHub } from '../viewer/live.js'
import { startViewer, type RunningViewer } from '../viewer/server.js'
import { SessionCache } from '../viewer/session-cache.js'
import { bearer } from './helpers/viewer-token.js'
import { appendExchange, closeSessions, makeExchange, writeBigSession } from './helpers/viewer-big-session.js'

type Event = { event: string; data: unknown }

/** Reads an SSE stream and hands out events as they come. */
class EventReader {
  private buffer = ''
  private readonly events: Event[] = []
  private waiter: (() => void) | null = null
  readonly comments: string[] = []
  /** Settles when the server ends the stream (or the test aborts it). */
  readonly ended: Promise<void>
  constructor(
    readonly response: Response,
    private readonly abort: AbortController,
  ) {
    this.ended = this.pump()
  }

  private async pump(): Promise<void> {
    const reader = (this.response.body as ReadableStream<Uint8Array>).getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        this.buffer += decoder.decode(value, { stream: true })
        let end
        while ((end = this.buffer.indexOf('\n\n')) !== -1) {
          const block = this.buffer.slice(0, end)
          this.buffer = this.buffer.slice(end + 2)
          let event = 'message'
          let data = ''
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) this.comments.push(line)
            else if (line.startsWith('event: ')) event = line.slice(7)
            else if (line.startsWith('data: ')) data += line.slice(6)
          }
          if (data) this.events.push({ event, data: JSON.parse(data) })
          this.waiter?.()
        }
      }
    } catch {
      // aborted by the test
    }
  }

  /** Waits (bounded) until `count` events of this kind have arrived, and returns them. */
  async next(event: string, count = 1, timeoutMs = 8000): Promise<unknown[]> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.filter((e) => e.event === event).map((e) => e.data)
      if (found.length >= count) return found
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out waiting for ${count} "${event}" events; got ${found.length}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 200))
        this.waiter = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
  }

  /** Waits (bounded) for an event of this kind whose data satisfies `test`; earlier ones are skipped. */
  async until<T>(event: string, test: (data: T) => boolean, timeoutMs = 8000): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (let seen = 1; ; seen++) {
      const all = (await this.next(event, seen, Math.max(1, deadline - Date.now()))) as T[]
      const last = all[all.length - 1] as T
      if (test(last)) return last
    }
  }

  close(): void {
    this.abort.abort()
  }
}

let dir: string
let viewer: RunningViewer
const readers: EventReader[] = []

async function subscribe(path: string): Promise<EventReader> {
  const abort = new AbortController()
  const response = await fetch(new URL(path, viewer.url), { signal: abort.signal, headers: bearer(viewer.token) })
  expect(response.status).toBe(200)
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/)
  const reader = new EventReader(response, abort)
  readers.push(reader)
  return reader
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-live-'))
  viewer = await startViewer({ dir, port: 0, config: {} })
})
afterEach(async () => {
  for (const r of readers.splice(0)) r.close()
  await closeSessions()
  await viewer?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('live updates', () => {
  it('a recorder appends exchanges; a watcher of the session gets each new row once', async () => {
    await appendExchange(dir, 'live', makeExchange(1))
    const page = (await (await fetch(new URL('/api/sessions/live/exchanges', viewer.url), { headers: bearer(viewer.token) })).json()) as ExchangePage
    expect(page.total).toBe(1)
    const events = await subscribe('/api/sessions/live/events')
    await appendExchange(dir, 'live', makeExchange(2))
    await appendExchange(dir, 'live', makeExchange(3))
    const rows = (await events.next('exchange', 2)) as ExchangeSummary[]
    expect(rows.map((r) => r.seq)).toEqual([2, 3])
    expect(rows[0]).toMatchObject({ ok: true, path: '/public/api/v1/chats/history?n=2', relsTypes: ['Clients'] })
    // The recorder stops: the journal folds into the file. Nothing is sent twice; a later append still arrives.
    await closeSessions(dir, 'live')
    await appendExchange(dir, 'live', makeExchange(4))
    const after = (await events.next('exchange', 3)) as ExchangeSummary[]
    expect(after.map((r) => r.seq)).toEqual([2, 3, 4])
    const final = (await (await fetch(new URL('/api/sessions/live/exchanges', viewer.url), { headers: bearer(viewer.token) })).json()) as ExchangePage
    expect(final.items.map((i) => i.seq)).toEqual([1, 2, 3, 4])
  })

  it('afterSeq replays rows the client has not paged yet', async () => {
    await writeBigSession(dir, 'known', 5)
    const events = await subscribe('/api/sessions/known/events?afterSeq=3')
    expect(((await events.next('exchange', 2)) as ExchangeSummary[]).map((r) => r.seq)).toEqual([4, 5])
  })

  it('the session list updates when a session appears and when its counts change', async () => {
    const events = await subscribe('/api/events')
    expect(await events.next('sessions', 1)).toEqual([[]])
    await writeBigSession(dir, 'first', 3)
    // A file seen half-written may show up as invalid first; what matters is the list it settles on.
    const withFirst = await events.until<SessionSummary[]>('sessions', (l) => l.some((s) => s.name === 'first' && s.exchanges === 3))
    expect(withFirst.map((s) => [s.name, s.exchanges])).toEqual([['first', 3]])
    await writeFile(join(dir, 'broken.json'), '{"format":', { mode: 0o600 })
    const withBroken = await events.until<SessionSummary[]>('sessions', (l) => l.some((s) => s.name === 'broken' && s.invalid !== undefined))
    expect(withBroken.find((s) => s.name === 'broken')?.invalid).toMatch(/not valid JSON/)
  })

  it('sends heartbeat comments on idle streams', async () => {
    await viewer.close()
    viewer = await startViewer({ dir, port: 0, config: {}, heartbeatMs: 50 })
    const events = await subscribe('/api/events')
    await events.next('sessions', 1)
    for (let i = 0; i < 100 && !events.comments.includes(': heartbeat'); i++) await new Promise((r) => setTimeout(r, 20))
    expect(events.comments).toContain(': heartbeat')
  })

  it('refuses to stream a session that does not exist', async () => {
    const res = await fetch(new URL('/api/sessions/ghost/events', viewer.url), { headers: bearer(viewer.token) })
    expect(res.status).toBe(404)
    expect(await res.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' })
  })

  it('closes open streams when the viewer stops', async () => {
    const events = await subscribe('/api/events')
    await events.next('sessions', 1)
    await viewer.close()
    const end = await Promise.race([events.ended.then(() => 'ended'), new Promise((r) => setTimeout(() => r('hung'), 5000))])
    expect(end).toBe('ended')
  })
})

describe('following a large session', () => {
  it('a watcher of a session gets its new rows without the viewer walking the rows it has', async () => {
    await writeBigSession(dir, 'long', 2000)
    const cache = new SessionCache(dir)
    const hub = new LiveHub(cache)
    const { reader } = await cache.get('long')
    const frames: string[] = []
    const raw = Object.assign(new EventEmitter(), { writeHead: () => undefined, write: (text: string) => frames.push(text) > 0, end: () => undefined })
    await hub.subscribeSession('long', { hijack: () => undefined, raw, getHeaders: () => ({}) } as unknown as FastifyReply)
    let looks = 0
    for (const row of reader.rows) {
      const summary = row.summary
      Object.defineProperty(row, 'summary', { enumerable: true, get: () => (looks++, summary) })
    }
    try {
      await appendExchange(dir, 'long', makeExchange(2001))
      await appendExchange(dir, 'long', makeExchange(2002))
      await new Promise((r) => setImmediate(r)) // the writer's journal lines are on disk at the next turn
      hub.changed()
      await expect.poll(() => frames.filter((f) => f.startsWith('event: exchange')).length).toBe(2)
      expect(frames.filter((f) => f.startsWith('event: exchange')).map((f) => (JSON.parse(f.split('data: ')[1]!) as ExchangeSummary).seq)).toEqual([2001, 2002])
      expect(looks).toBeLessThan(10) // the last row, to place the new ones after it; not the 2,000
    } finally {
      hub.close()
      cache.close()
    }
  })
})

describe('the session list while a session is recorded', () => {
  it('follows the recording instead of reading the whole session again at each change', async () => {
    for (let seq = 1; seq <= 2000; seq++) await appendExchange(dir, 'rec', makeExchange(seq))
    const events = await subscribe('/api/events')
    await events.until<SessionSummary[]>('sessions', (l) => l.some((s) => s.name === 'rec' && s.exchanges === 2000))
    const opens = vi.spyOn(SessionReader, 'open')
    try {
      for (let round = 1; round <= 3; round++) {
        await appendExchange(dir, 'rec', makeExchange(2000 + round))
        await events.until<SessionSummary[]>('sessions', (l) => l.some((s) => s.name === 'rec' && s.exchanges === 2000 + round))
      }
      expect(opens).not.toHaveBeenCalled() // held open since the first listing, and followed
    } finally {
      opens.mockRestore()
    }
  })
})

describe('startViewer', () => {
  it('names the port when it is in use', async () => {
    const port = Number(new URL(viewer.url).port)
    await expect(startViewer({ dir, port, config: {} })).rejects.toMatchObject({ code: 'PORT_IN_USE', message: expect.stringContaining(String(port)) })
  })

  it('binds 127.0.0.1 by default', () => {
    expect(new URL(viewer.url).hostname).toBe('127.0.0.1')
  })
})
