/**
 * Live updates: watches the sessions directory and pushes server-sent events. `event: exchange` for
 * each row appended to a session a client watches (a recorder's journal growing, or its file folding
 * the journal on close), and `event: sessions` when the list of sessions or their counts change.
 * Plain `text/event-stream` on a hijacked reply: the protocol is a few lines, a plugin would add little.
 */
import { watch, type FSWatcher } from 'node:fs'
import type { ServerResponse } from 'node:http'
import type { FastifyReply } from 'fastify'
import type { ExchangeSummary } from '../model/summary.js'
import type { RowsMark } from '../store/session-reader.js'
import type { SessionSummary } from '../store/store.js'
import type { SessionCache } from './session-cache.js'

export const HEARTBEAT_MS = 15_000
/** Changes are gathered for this long: a recorder writing quickly causes one read, not one per line. */
const SETTLE_MS = 40
/** A slow re-check while anyone listens, in case the file system drops a watch event. */
const SAFETY_POLL_MS = 2_000

type Client = { raw: ServerResponse }
/** `known`: the seqs this channel's clients have (from pages or from this stream); `mark`: where its last look left the reader. */
type Channel = { clients: Set<Client>; known: Set<number>; mark: RowsMark }

function frame(event: string, data: unknown): string {
  // JSON has no raw newlines, so the data is one `data:` line.
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`
}

function signature(list: SessionSummary[]): string {
  return JSON.stringify(list.map((s) => [s.name, s.exchanges, s.errors, s.identities, s.invalid ?? null]))
}

export class LiveHub {
  readonly #channels = new Map<string, Channel>()
  readonly #listClients = new Set<Client>()
  #lastList: string | null = null
  #watcher: FSWatcher | null = null
  #timers: NodeJS.Timeout[] = []
  #settle: NodeJS.Timeout | null = null
  #running = false
  #dirty = false
  #closed = false
  readonly #cache: SessionCache
  readonly #onError: (e: unknown) => void
  readonly #heartbeatMs: number
  readonly #warm: boolean


  constructor(
    cache: SessionCache,
    onError: (e: unknown) => void = () => undefined,
    heartbeatMs = HEARTBEAT_MS,
    /** Re-read changed sessions even when nobody listens, so a session is parsed before someone opens it. */
    warm = false,
  ) {
    this.#cache = cache
    this.#onError = onError
    this.#heartbeatMs = heartbeatMs
    this.#warm = warm
  }

  /** Starts watching; safe to call when the directory does not exist yet (it is looked for again). */
  start(): void {
    this.#watchDir()
    const heartbeat = setInterval(() => this.#broadcastAll(': heartbeat\n\n'), this.#heartbeatMs)
    const safety = setInterval(() => {
      if (!this.#watcher) this.#watchDir()
      if (this.#listClients.size > 0 || this.#channels.size > 0) this.changed()
    }, SAFETY_POLL_MS)
    heartbeat.unref()
    safety.unref()
    this.#timers.push(heartbeat, safety)
  }

  #watchDir(): void {
    if (this.#closed) return
    try {
      this.#watcher = watch(this.#cache.store.dir, { persistent: false }, () => this.changed())
      this.#watcher.on('error', () => {
        this.#watcher?.close()
        this.#watcher = null // the safety poll re-creates it
        this.changed()
      })
    } catch {
      this.#watcher = null // no directory yet
    }
  }

  /** Streams rows appended to `name` from now on (and, with `afterSeq`, the ones already past it). */
  async subscribeSession(name: string, reply: FastifyReply, afterSeq?: number): Promise<void> {
    const { reader } = await this.#cache.get(name)
    const { rows } = reader
    const channel = this.#channels.get(name) ?? { clients: new Set(), known: new Set(rows.map((r) => r.summary.seq)), mark: reader.mark() }
    this.#channels.set(name, channel)
    const client = this.#open(reply, () => {
      channel.clients.delete(client)
      if (channel.clients.size === 0 && this.#channels.get(name) === channel) this.#channels.delete(name)
    })
    channel.clients.add(client)
    if (afterSeq !== undefined) for (const r of rows) if (r.summary.seq > afterSeq) client.raw.write(frame('exchange', r.summary))
    // Rows that arrived between the client's last page and now are not lost: check at once.
    this.changed()
  }

  /** Streams the session list whenever sessions appear, go, or change their counts. */
  async subscribeSessions(reply: FastifyReply): Promise<void> {
    const list = await this.#cache.list()
    if (this.#lastList === null) this.#lastList = signature(list)
    const client = this.#open(reply, () => this.#listClients.delete(client))
    this.#listClients.add(client)
    client.raw.write(frame('sessions', list))
  }

  #open(reply: FastifyReply, onClose: () => void): Client {
    reply.hijack()
    const raw = reply.raw
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(reply.getHeaders())) if (typeof v === 'string') headers[k] = v
    raw.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    })
    raw.write('retry: 2000\n: connected\n\n')
    const client: Client = { raw }
    raw.on('close', onClose)
    return client
  }

  /** Something in the directory changed: re-check after the burst settles, never two checks at once. */
  changed(): void {
    if (this.#closed) return
    this.#dirty = true
    if (this.#settle || this.#running) return
    this.#settle = setTimeout(() => {
      this.#settle = null
      void this.#check()
    }, SETTLE_MS)
  }

  async #check(): Promise<void> {
    this.#running = true
    try {
      while (this.#dirty && !this.#closed) {
        this.#dirty = false
        for (const [name, channel] of this.#channels) await this.#checkSession(name, channel)
        if (this.#listClients.size > 0 || this.#warm) {
          const list = await this.#cache.list()
          const sig = signature(list)
          if (sig !== this.#lastList) {
            this.#lastList = sig
            for (const c of this.#listClients) c.raw.write(frame('sessions', list))
          }
        } else {
          this.#lastList = null
        }
      }
    } catch (e) {
      this.#onError(e)
    } finally {
      this.#running = false
    }
  }

  async #checkSession(name: string, channel: Channel): Promise<void> {
    let fresh: ExchangeSummary[]
    try {
      // The rows added since this channel's last look, rather than this refresh's `added`: another reader (a page
      // request, the session list) may have been the one whose refresh read the new journal lines. All of them only
      // when the session was read whole since (or by another reader): then what was sent tells what is new.
      const { reader } = (await this.#cache.refresh(name)).entry
      const rows = reader.rowsSince(channel.mark) ?? reader.rows
      channel.mark = reader.mark()
      fresh = []
      for (const r of rows) if (!channel.known.has(r.summary.seq)) fresh.push(r.summary)
    } catch {
      return // gone or invalid for the moment (mid-write): the list stream says so, rows resume when it reads again
    }
    for (const s of fresh) {
      channel.known.add(s.seq)
      const data = frame('exchange', s)
      for (const c of channel.clients) c.raw.write(data)
    }
  }

  #broadcastAll(text: string): void {
    for (const c of this.#listClients) c.raw.write(text)
    for (const ch of this.#channels.values()) for (const c of ch.clients) c.raw.write(text)
  }

  /** Ends every stream and stops watching (the server cannot close while streams are open). */
  close(): void {
    this.#closed = true
    for (const t of this.#timers) clearInterval(t)
    if (this.#settle) clearTimeout(this.#settle)
    this.#watcher?.close()
    for (const c of this.#listClients) c.raw.end()
    for (const ch of this.#channels.values()) for (const c of ch.clients) c.raw.end()
    this.#listClients.clear()
    this.#channels.clear()
  }
}
