/**
 * End to end: a support chat recorded from the sandbox through the recorder (reverse mode), then replayed.
 * Every recorded request sent again gets its recorded response byte for byte; the whole story played
 * again against replay gets the same outcomes, with no misses and no unused recordings.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Body, Exchange, Session } from '../model/session.js'
import { startRecorder } from '../recorder/index.js'
import { startReplay, type ReplayHandle } from '../replay/start-replay.js'
import { playStory, startSandbox, type Sandbox, type StoryResult } from '../sandbox/index.js'
import { SessionStore } from '../store/store.js'
import { Agent } from 'undici'
import { expectedBytes } from './fixtures/replay/helpers.js'

let home: string
let dir: string
let sandbox: Sandbox
let recorded: Session
let recordedRun: StoryResult
let replay: ReplayHandle | null = null

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'reltape-replay-e2e-home-'))
  dir = await mkdtemp(join(tmpdir(), 'reltape-replay-e2e-dir-'))
  sandbox = await startSandbox({ port: 0, home })
  const rec = await startRecorder({ home, dir, port: 0, session: 'story', upstream: sandbox.url, log: () => {} })
  try {
    const ca = await readFile(rec.ca.certPath, 'utf8')
    const agent = new Agent({ connect: { ca } })
    recordedRun = await playStory({ apiUrl: rec.url, dispatcher: agent })
    await rec.settle()
    await agent.close()
  } finally {
    await rec.stop(0)
  }
  await sandbox.close()
  recorded = await new SessionStore(dir).read('story')
}, 60_000)

afterAll(async () => {
  await replay?.close()
  await sandbox?.close().catch(() => {})
  await rm(home, { recursive: true, force: true })
  await rm(dir, { recursive: true, force: true })
})

/** The recorded request body, ready to send again (multipart rebuilt from its parts, with a new boundary). */
function requestBody(body: Body): { body?: string | Buffer | FormData; contentType?: string } {
  if (body.kind === 'empty') return {}
  if (body.kind === 'multipart') {
    const form = new FormData()
    for (const p of body.parts) {
      const bytes = expectedBytes(p.body)
      if (p.filename !== undefined) form.append(p.name, new Blob([bytes], p.contentType ? { type: p.contentType } : {}), p.filename)
      else form.append(p.name, bytes.toString('utf8'))
    }
    return { body: form }
  }
  return { body: expectedBytes(body), contentType: body.contentType }
}

function requestHeaders(e: Exchange, contentType: string | undefined): Record<string, string> {
  const h: Record<string, string> = {}
  for (const [name, value] of e.request.headers) if (/^(cookie|authorization|accept)$/i.test(name)) h[name] = value
  if (contentType) h['content-type'] = contentType
  return h
}

describe('a story recorded from the sandbox, replayed', { timeout: 60_000 }, () => {
  it('was recorded whole', () => {
    expect(recordedRun.failures).toBe(1) // the story's tickets/close fails on purpose (OK:false)
    expect(recorded.exchanges.length).toBe(recordedRun.calls)
    expect(recorded.exchanges.every((e) => e.response !== null)).toBe(true)
  })

  it('answers every recorded request with its recorded response, byte for byte', async () => {
    replay = await startReplay({ session: 'story', dir, strict: true })
    for (const e of recorded.exchanges) {
      const { body, contentType } = requestBody(e.request.body)
      const res = await fetch(replay.url + new URL(e.request.url).pathname, { method: e.request.method, headers: requestHeaders(e, contentType), ...(body ? { body } : {}) })
      const got = Buffer.from(await res.arrayBuffer())
      expect(res.status, `#${e.seq}`).toBe(e.response!.status)
      expect(got.equals(expectedBytes(e.response!.body)), `#${e.seq} ${e.request.url} body`).toBe(true)
      expect(res.headers.get('content-length')).toBe(String(got.length))
      expect(res.headers.get('content-encoding')).toBeNull()
    }
    expect(replay.misses).toEqual([])
    expect(replay.unused()).toEqual([])
    await replay.close()
    replay = null
  })

  it('plays the whole story again offline with the same outcomes, no misses and nothing unused', async () => {
    const log: string[] = []
    replay = await startReplay({ session: 'story', dir, strict: true, log: (l) => log.push(l) })
    const again = await playStory({ apiUrl: replay.url })
    // The sends carry new LocalIds (the client's clock) and still match.
    expect(log.filter((l) => l.startsWith('HIT  POST /public/api/v1/chats/channel/send/support'))).toHaveLength(2)
    const outcome = (r: StoryResult) => r.steps.map((s) => [s.method, s.identity, s.status, s.ok, s.errorCode, s.bytes])
    expect(outcome(again)).toEqual(outcome(recordedRun))
    expect(replay.misses).toEqual([])
    expect(replay.unused()).toEqual([])
  })
})
