/**
 * Fault: 200 slowloris connections hold replay's port, sending headers a line at a time and never finishing;
 * meanwhile the client under test is answered from the session, and after the attack too.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { startReplay, type ReplayHandle } from '../../replay/start-replay.js'
import { CHAT_STORY, chatStory, postJson, recordedJson } from '../fixtures/replay/helpers.js'
import { slowloris } from '../helpers/slowloris.js'

let replay: ReplayHandle | null = null
afterEach(async () => {
  await replay?.close()
  replay = null
})

/** The story's first call, as its client sends it. */
const first = chatStory().exchanges[0]!
const ask = (base: string) => postJson(base, new URL(first.request.url).pathname, recordedJson(first))

describe('slowloris against replay', () => {
  it('answers the client under test while 200 connections dribble headers, and afterwards', async () => {
    replay = await startReplay({ session: CHAT_STORY })
    const attack = await slowloris(replay.url, 200)
    try {
      for (let i = 0; i < 10; i++) {
        const res = await ask(replay.url)
        expect(res.status).toBe(200)
        expect(res.headers.get('x-reltape')).toBeNull() // served from the session, not a miss
        await res.arrayBuffer()
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(attack.open()).toBeGreaterThan(0)
    } finally {
      attack.close()
    }
    expect((await ask(replay.url)).status).toBe(200)
  })
})
