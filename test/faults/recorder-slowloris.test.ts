/**
 * Fault: 200 slowloris connections hold the recorder's port, sending headers a line at a time and never finishing;
 * meanwhile the tester's own calls go through and are recorded, and after the attack too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { postVia, startHttpsUpstream, startRecorderEnv, tempDir, until, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'
import { slowloris } from '../helpers/slowloris.js'

let env: RecorderEnv
let upstream: Upstream

beforeAll(async () => {
  const home = await tempDir('fault-slowloris-home')
  upstream = await startHttpsUpstream(home, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"OK":true,"Error":null,"Result":[],"Rels":{}}')
  })
  env = await startRecorderEnv({}, home)
})
afterAll(async () => {
  await env?.close()
  await upstream?.close()
})

describe('slowloris against the recorder', () => {
  it('proxies and records the tester’s calls while 200 connections dribble headers, and afterwards', async () => {
    const attack = await slowloris(env.rec.url, 200)
    try {
      for (let i = 0; i < 10; i++) {
        const res = await postVia(env, `${upstream.url}/public/api/v1/chats/history`, { N: i })
        expect(res.status).toBe(200)
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(attack.open()).toBeGreaterThan(0)
    } finally {
      attack.close()
    }
    expect((await postVia(env, `${upstream.url}/public/api/v1/chats/history`, { N: 10 })).status).toBe(200)
    await until(async () => (await env.session()).exchanges.length === 11, 'the 11 calls recorded', 10_000)
  })
})
