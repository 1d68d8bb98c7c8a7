/**
 * A tester's client misses without end (a polling loop replay never recorded): replay counts every miss, keeps the
 * details of the latest ones only (1,000 by default, `keepMisses`), says so in its state, and its state stays small.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { buildReplayApp, type ReplayApp } from '../../replay/app.js'
import type { ReplayState } from '../../replay/replayer.js'
import { startReplay, type ReplayHandle } from '../../replay/start-replay.js'
import { chatStory, PATHS, postJson } from '../fixtures/replay/helpers.js'

let built: ReplayApp | null = null
let replay: ReplayHandle | null = null
afterEach(async () => {
  await built?.app.close()
  await replay?.close()
  built = replay = null
})

/** One miss, through the same decisions an HTTP request takes (no socket: 20,000 of them stay quick). */
function missOnce(app: ReplayApp, n: number): void {
  const answer = app.replayer.answer({
    method: 'POST',
    url: `/public/api/v1/poll/${n}`,
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(JSON.stringify({ ChatId: 10 })),
  })
  if (answer instanceof Promise || answer.status !== 404) throw new Error(`request ${n} was not a miss`)
}

describe('a client that misses 20,000 times', () => {
  it('leaves the latest 1,000 misses with details and the count of all of them, in a small state', async () => {
    built = await buildReplayApp(chatStory())
    for (let n = 0; n < 20_000; n++) missOnce(built, n)
    const state = built.replayer.state()
    expect(state.missCounts).toEqual({ total: 20_000, kept: 1000, dropped: 19_000, limit: 1000 })
    expect(state.misses).toHaveLength(1000)
    // The latest ones, oldest first.
    expect(state.misses[0]!.path).toBe('/public/api/v1/poll/19000')
    expect(state.misses[999]!.path).toBe('/public/api/v1/poll/19999')
    expect(built.replayer.misses).toHaveLength(1000)
    // What GET /__reltape/state sends is the size of 1,000 misses (under 500 bytes each here), not of 20,000.
    const res = await built.app.inject({ method: 'GET', url: '/__reltape/state' })
    expect(res.body.length).toBeLessThan(1000 * 500)
    expect(res.json<ReplayState>().missCounts.total).toBe(20_000)
  })

  it('keeps as many as keepMisses says (0: counts only), and a reset forgets the counts too', async () => {
    built = await buildReplayApp(chatStory(), { keepMisses: 10 })
    for (let n = 0; n < 25; n++) missOnce(built, n)
    expect(built.replayer.missCounts()).toEqual({ total: 25, kept: 10, dropped: 15, limit: 10 })
    built.replayer.reset()
    expect(built.replayer.state()).toMatchObject({ misses: [], missCounts: { total: 0, kept: 0, dropped: 0 } })
    await built.app.close()

    built = await buildReplayApp(chatStory(), { keepMisses: 0 })
    for (let n = 0; n < 5; n++) missOnce(built, n)
    expect(built.replayer.state()).toMatchObject({ misses: [], missCounts: { total: 5, kept: 0, dropped: 5, limit: 0 } })
    await expect(buildReplayApp(chatStory(), { keepMisses: -1 })).rejects.toMatchObject({ code: 'OPTION_INVALID', option: 'keepMisses' })
  })

  it('startReplay(...).misses is the live list of the kept misses; missCounts() has the total', async () => {
    replay = await startReplay({ session: chatStory(), keepMisses: 2 })
    for (const chat of [1, 2, 3]) expect((await postJson(replay.url, PATHS.history, { ChatId: chat })).status).toBe(404)
    expect(replay.misses.map((m) => m.nearest?.differs)).toEqual([['body field ChatId'], ['body field ChatId']])
    expect(replay.missCounts()).toEqual({ total: 3, kept: 2, dropped: 1, limit: 2 })
  })

  it('a miss on a body differing in thousands of fields names the first 20 and counts the rest', async () => {
    built = await buildReplayApp(chatStory())
    const wide = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`F${i}`, i]))
    const answer = await built.replayer.answer({
      method: 'POST',
      url: PATHS.history,
      headers: { 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify({ ChatId: 10, ...wide })),
    })
    const differs = answer.miss!.nearest!.differs
    expect(differs).toHaveLength(21)
    expect(differs[20]).toBe('and 4980 more')
    expect(answer.miss!.message.length).toBeLessThan(1000)
  })
})
