/**
 * Fault: 500 browsers (tabs, a team on one shared viewer) follow one session being recorded over server-sent
 * events. Each gets every new row once; half of them vanish without a goodbye (a closed laptop) and the rest still
 * get the next row; the API keeps answering meanwhile; stopping the viewer ends every stream.
 */
import http from 'node:http'
import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startViewer, type RunningViewer } from '../../viewer/server.js'
import { tempDir } from '../helpers/exchange-factory.js'
import { until } from '../helpers/until.js'
import { appendExchange, closeSessions, makeExchange } from '../helpers/viewer-big-session.js'
import { bearer } from '../helpers/viewer-token.js'

const CLIENTS = 500

/** One SSE connection of its own (no shared agent): the seqs of the `exchange` events it has received. */
type Follower = { seqs: number[]; connected(): boolean; ended: Promise<void>; destroy(): void }

function follow(viewer: RunningViewer, path: string): Follower {
  const url = new URL(path, viewer.url)
  const seqs: number[] = []
  let buffer = ''
  let connected = false
  let onEnded!: () => void
  const ended = new Promise<void>((r) => (onEnded = r))
  const req = http.get(url, { agent: false, headers: bearer(viewer.token) }, (res) => {
    res.setEncoding('utf8')
    res.on('data', (chunk: string) => {
      buffer += chunk
      if (buffer.includes(': connected')) connected = true
      let end
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        if (!block.includes('event: exchange')) continue
        const data = block.split('\n').find((l) => l.startsWith('data: '))
        if (data) seqs.push((JSON.parse(data.slice(6)) as { seq: number }).seq)
      }
    })
    res.on('close', onEnded)
  })
  req.on('error', onEnded)
  return { seqs, connected: () => connected, ended, destroy: () => req.destroy() }
}

let dir: string
let viewer: RunningViewer
const followers: Follower[] = []

beforeEach(async () => {
  dir = await tempDir('reltape-fault-sse-')
  viewer = await startViewer({ dir, port: 0, config: {} })
})
afterEach(async () => {
  for (const f of followers.splice(0)) f.destroy()
  await closeSessions()
  await viewer?.close()
  await rm(dir, { recursive: true, force: true })
})

describe('500 viewers following one live session', () => {
  it('each gets every new row once, the rest go on when half vanish, and stopping the viewer ends every stream', async () => {
    await appendExchange(dir, 'live', makeExchange(1))
    for (let i = 0; i < CLIENTS; i++) followers.push(follow(viewer, '/api/sessions/live/events'))
    await until(() => followers.every((f) => f.connected()), `all ${CLIENTS} followers connected`, 20_000)

    await appendExchange(dir, 'live', makeExchange(2))
    await until(() => followers.every((f) => f.seqs.length >= 1), `row 2 at all ${CLIENTS} followers`, 20_000)
    // Meanwhile the API answers as ever.
    const page = await fetch(new URL('/api/sessions/live/exchanges', viewer.url), { headers: bearer(viewer.token) })
    expect(page.status).toBe(200)

    // Half of them go without closing anything properly.
    const gone = followers.slice(0, CLIENTS / 2)
    const staying = followers.slice(CLIENTS / 2)
    for (const f of gone) f.destroy()
    await appendExchange(dir, 'live', makeExchange(3))
    await until(() => staying.every((f) => f.seqs.length >= 2), `row 3 at the ${staying.length} followers left`, 20_000)
    for (const f of staying) expect(f.seqs).toEqual([2, 3])
    for (const f of gone) expect(f.seqs).toEqual([2])

    await viewer.close()
    let ended = 0
    for (const f of staying) void f.ended.then(() => ended++)
    await until(() => ended === staying.length, `the ${staying.length} streams to end when the viewer stops`, 10_000)
  })
})
