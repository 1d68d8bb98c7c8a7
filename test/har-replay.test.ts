/**
 * A HAR replays as it is: `startReplay({ session: 'x.har' })` and `reltape replay x.har` import it through the same
 * import code into a private folder of the process (read there like any session, never held whole in memory), write
 * nothing next to the HAR, and leave nothing behind when they stop.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startReplay, type ReplayHandle } from '../replay/start-replay.js'
import { exportHar } from '../store/har-export.js'
import { SessionStore } from '../store/store.js'
import { repoRoot } from './helpers/cli.js'
import { tempDir } from './helpers/exchange-factory.js'

const FIXTURES = join(import.meta.dirname, 'fixtures/har')
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function dir(): Promise<string> {
  const d = await tempDir('reltape-har-replay-')
  cleanup.push(() => rm(d, { recursive: true, force: true }))
  return d
}

async function replay(session: string): Promise<ReplayHandle> {
  const r = await startReplay({ session })
  cleanup.push(() => r.close())
  return r
}

const post = (url: string, path: string, body: string) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body })

/** Names and modification times of everything in a folder: what must not change. */
const listing = (d: string) => readdirSync(d).map((f) => [f, statSync(join(d, f)).mtimeMs])

/** The private folders HAR replays and views import into. */
const harCopies = () => readdirSync(tmpdir()).filter((f) => f.startsWith('reltape-har-view-'))

describe('replaying a HAR', () => {
  it('reads it from a private copy while it runs and removes the copy when it stops, and what a killed one left', async () => {
    const d = await dir()
    const reader = await new SessionStore(join(repoRoot, 'sessions')).reader('sample-support-chat')
    await exportHar(reader, join(d, 'chat.har'))
    // What a replay killed with -9 left: a folder named for a process that is gone.
    const dead = join(tmpdir(), `reltape-har-view-${2 ** 22 + 4321}-x1y2z3`)
    mkdirSync(join(dead, '0'), { recursive: true, mode: 0o700 })
    const r = await startReplay({ session: join(d, 'chat.har') })
    // Other test files' viewers run in other processes: only this process's copies are looked at.
    const mine = harCopies().filter((f) => f.startsWith(`reltape-har-view-${process.pid}-`))
    expect(mine).toHaveLength(1)
    expect(statSync(join(tmpdir(), mine[0]!)).mode & 0o777).toBe(0o700)
    expect(harCopies()).not.toContain(dead.slice(tmpdir().length + 1))
    expect((await post(r.url, '/public/api/v1/clients/get', '{"Id":11}')).status).toBe(200)
    await r.close()
    expect(harCopies().filter((f) => f.startsWith(`reltape-har-view-${process.pid}-`))).toEqual([])
  })

  it("answers an exported session's requests from its .har and its .zip, writing nothing", async () => {
    const d = await dir()
    const reader = await new SessionStore(join(repoRoot, 'sessions')).reader('sample-support-chat')
    await exportHar(reader, join(d, 'chat.har'))
    await exportHar(reader, join(d, 'chat.zip'))
    const before = listing(d)
    for (const file of ['chat.har', 'chat.zip']) {
      const r = await replay(join(d, file))
      expect(r.exchanges).toBe(10)
      expect(r.session.recording.mode).toBe('import')
      const res = await post(r.url, '/public/api/v1/clients/get', '{"Id":11}')
      expect(res.status).toBe(200)
      expect(((await res.json()) as { OK: boolean }).OK).toBe(true)
      const png = await post(r.url, '/public/api/v1/files/download', '{"Id":"e83220a3-56cb-11e7-b21f-6109cf735b0f.png"}')
      expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG')
    }
    expect(listing(d)).toEqual(before)
  })

  it('replays a browser HAR as reltape import would read it (API traffic only)', async () => {
    const d = await dir()
    cpSync(join(FIXTURES, 'chrome-devtools.har'), join(d, 'devtools.har'))
    const before = listing(d)
    const r = await replay(join(d, 'devtools.har'))
    expect(r.exchanges).toBe(5)
    const res = await post(r.url, '/public/api/v1/chats/history', '{"ChatId":10,"Limit":50}')
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ OK: true, Error: null, Result: [{ Id: 1, Text: 'hi' }], Rels: {} })
    expect(listing(d)).toEqual(before)
  })

  it('fails on an invalid HAR with HAR_INVALID naming the JSON path', async () => {
    const error = await startReplay({ session: join(FIXTURES, 'invalid-missing-url.har') }).catch((e: unknown) => e)
    expect((error as { code: string }).code).toBe('HAR_INVALID')
    expect((error as Error).message).toContain('log.entries[3].request.url: missing')
  })

  it('reltape replay FILE.har serves it from the command line', { timeout: 60_000 }, async () => {
    const d = await dir()
    cpSync(join(FIXTURES, 'firefox.har'), join(d, 'ff.har'))
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/reltape.ts', 'replay', join(d, 'ff.har'), '--port', '0'], { cwd: repoRoot, env: { ...process.env, RELTAPE_DEBUG: '' } })
    cleanup.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL')
    })
    let out = ''
    child.stdout.on('data', (b: Buffer) => (out += b.toString()))
    const deadline = Date.now() + 30_000
    while (!out.includes('Ctrl-C to stop')) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`replay did not start: ${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    expect(out).toContain(`session: ${join(d, 'ff.har')}`)
    expect(out).toContain('serving 4 exchange(s)')
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
    const res = await post(url, '/public/api/v1/chats/history', '{"ChatId":10,"Limit":50}')
    expect(res.status).toBe(200)
    const exited = new Promise((resolve) => child.on('close', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(readdirSync(d)).toEqual(['ff.har'])
  })
})
