import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { startReplay, type ReplayHandle } from '../../replay/start-replay.js'
import { CHAT_STORY, FIXTURES, PATHS, postJson } from '../fixtures/replay/helpers.js'

let replay: ReplayHandle | null = null
let blocker: Server | null = null
const dirs: string[] = []
afterEach(async () => {
  await replay?.close()
  replay = null
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()))
  blocker = null
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

/** The error a start fails with; a start that succeeds fails the test (after closing the server). */
async function failure(started: Promise<ReplayHandle>): Promise<Error & { code?: string }> {
  try {
    replay = await started
  } catch (e) {
    return e as Error & { code?: string }
  }
  throw new Error('expected startReplay to fail')
}

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'reltape-replay-'))
  dirs.push(d)
  return d
}

describe('bad input', () => {
  it('a session that does not exist: the error lists the sessions that do', async () => {
    const dir = tempDir()
    copyFileSync(CHAT_STORY, join(dir, 'chat-story.json'))
    copyFileSync(CHAT_STORY, join(dir, 'login.json'))
    const err = await failure(startReplay({ session: 'chat-stroy', dir }))
    expect(err).toBeInstanceOf(Error)
    expect(err.code).toBe('SESSION_NOT_FOUND')
    expect(err.message).toContain('no session "chat-stroy"')
    expect(err.message).toContain('chat-story, login')
  })

  it('a corrupt session file: the store\'s clear error, and nothing written', async () => {
    const dir = tempDir()
    const file = join(dir, 'broken.json')
    copyFileSync(join(FIXTURES, 'corrupt.json'), file)
    const before = readFileSync(file)
    const err = await failure(startReplay({ session: file }))
    expect(err.code).toBe('SESSION_INVALID')
    expect(err.message).toMatch(/broken\.json: line \d+, column \d+: not valid JSON/)
    expect(readdirSync(dir)).toEqual(['broken.json'])
    expect(readFileSync(file).equals(before)).toBe(true)
  })

  it('a port in use: a clear error with a stable code', async () => {
    blocker = createServer()
    const port = await new Promise<number>((resolve) => blocker!.listen(0, '127.0.0.1', () => resolve((blocker!.address() as { port: number }).port)))
    const err = await failure(startReplay({ session: CHAT_STORY, port }))
    expect(err.code).toBe('PORT_IN_USE')
    expect(err.message).toBe(`127.0.0.1:${port} is already in use by another process; stop it, or choose another port with --port (0 picks a free one)`)
  })

  it('a body that is not JSON under a JSON content type is matched by its bytes, without a crash', async () => {
    replay = await startReplay({ session: CHAT_STORY })
    const res = await fetch(replay.url + PATHS.send, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"LocalId": 1, "Text": ' })
    expect(res.status).toBe(404)
    const body = (await res.json()) as { Error: { Message: string } }
    expect(body.Error.Message).toContain('body: is 23 bytes of non-JSON, the recording\'s is JSON')
    // The server is still fine.
    expect((await postJson(replay.url, PATHS.send, { LocalId: 2, Payload: 'text', Text: '!' })).status).toBe(200)
  })

  it('a request larger than any recording is refused with a clear miss', async () => {
    replay = await startReplay({ session: CHAT_STORY })
    const huge = JSON.stringify({ ChatId: 10, Padding: 'x'.repeat(1_000_000) })
    const res = await fetch(replay.url + PATHS.history, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge })
    expect(res.status).toBe(404)
    expect(res.headers.get('x-reltape')).toBe('miss')
    const body = (await res.json()) as { Error: { Code: string; Message: string } }
    expect(body.Error.Code).toBe('ReplayMiss')
    expect(body.Error.Message).toContain(`(${huge.length} bytes) is larger than any recording's (the largest recorded request body is 321 bytes)`)
    expect(replay.misses.map((m) => m.reason)).toEqual(['too-large'])
    expect((await postJson(replay.url, PATHS.history, { ChatId: 10 })).status).toBe(200)
  })

  it('rejects a bad field path in the options with a stable code', async () => {
    const err = await failure(startReplay({ session: CHAT_STORY, ignoreFields: ['a..b'] }))
    expect(err.code).toBe('OPTION_INVALID')
    expect(err.message).toContain('ignoreFields (--ignore-field): not a field path: "a..b"')
  })
})
