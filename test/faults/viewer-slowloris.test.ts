/**
 * Fault: 200 slowloris connections hold the viewer's port, sending headers a line at a time and never finishing;
 * meanwhile the viewer answers its user's API calls, and after the attack it is as it was.
 */
import { rm } from 'node:fs/promises'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { startViewer, type RunningViewer } from '../../viewer/server.js'
import { tempDir } from '../helpers/exchange-factory.js'
import { slowloris } from '../helpers/slowloris.js'
import { writeBigSession } from '../helpers/viewer-big-session.js'
import { bearer } from '../helpers/viewer-token.js'

let dir: string
let viewer: RunningViewer

beforeEach(async () => {
  dir = await tempDir('reltape-fault-slowloris-')
  await writeBigSession(dir, 'story', 20)
  viewer = await startViewer({ dir, port: 0, config: {} })
})
afterEach(async () => {
  await viewer?.close()
  await rm(dir, { recursive: true, force: true })
})

const api = (path: string) => fetch(new URL(path, viewer.url), { headers: bearer(viewer.token), signal: AbortSignal.timeout(10_000) })

describe('slowloris against the viewer', () => {
  it('answers its user while 200 connections dribble headers, and afterwards', async () => {
    const attack = await slowloris(viewer.url, 200)
    try {
      for (let i = 0; i < 10; i++) {
        const res = await api('/api/sessions/story/exchanges?offset=0&limit=5')
        expect(res.status).toBe(200)
        expect(((await res.json()) as { total: number }).total).toBe(20)
        await new Promise((r) => setTimeout(r, 100))
      }
      // Still dribbling: the attack was on while the user was served.
      expect(attack.open()).toBeGreaterThan(0)
    } finally {
      attack.close()
    }
    expect((await api('/api/sessions')).status).toBe(200)
  })
})
