/**
 * `reltape demo --once`, the README's first line: it starts the sandbox and the recorder, plays the support chat
 * through the proxy, and leaves a session with both identities, a failing call, an upload and a PNG.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { Exchange } from '../model/session.js'
import { PNG_SIGNATURE } from '../sandbox/index.js'
import { readSessionFiles } from '../store/store.js'
import { sessionPaths } from '../store/paths.js'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/recorder-env.js'

const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('reltape demo --once', () => {
  it('records the story and says where the session is and how to look at it', async () => {
    const home = await tempDir('demo-home')
    const dir = await tempDir('demo-dir')
    dirs.push(home, dir)
    const r = runCli(['demo', '--once'], { RELTAPE_HOME: home, RELTAPE_DIR: dir }, 90_000)
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(r.stdout).toMatch(/#1 POST \/public\/api\/v1\/chats\/history {2}OK {2}identity-1/)
    expect(r.stdout).toMatch(/ERR TicketClosed {2}identity-2/)
    expect(r.stdout).toContain('reltape replay demo-')

    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'))
    expect(files).toHaveLength(1)
    expect((await readdir(dir)).some((f) => f.endsWith('.lock') || f.endsWith('.journal'))).toBe(false)
    const file = join(dir, files[0]!)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(r.stdout).toContain(file)

    const session = await readSessionFiles(sessionPaths(dir, files[0]!.replace(/\.json$/, '')))
    expect(session.recording.mode).toBe('forward')
    expect(session.recording.tool).toMatch(/^reltape\/\d+\.\d+\.\d+/)
    expect(session.identities).toHaveLength(2)
    const ex = session.exchanges
    expect(ex.length).toBeGreaterThanOrEqual(10)
    expect(ex.map((e) => e.seq)).toEqual(ex.map((_e, i) => i + 1))
    expect(new Set(ex.map((e) => e.request.auth?.via))).toEqual(new Set(['cookie', 'authorization']))
    const envelope = (e: Exchange) => (e.response?.body.kind === 'json' ? (e.response.body.json as { OK?: boolean }) : null)
    expect(ex.some((e) => envelope(e)?.OK === false)).toBe(true)
    // History twice, with a different answer the second time (messages were sent in between).
    const histories = ex.filter((e) => e.request.url.endsWith('/chats/history'))
    expect(histories.length).toBeGreaterThanOrEqual(2)
    expect(JSON.stringify(histories[0]!.response!.body)).not.toEqual(JSON.stringify(histories[1]!.response!.body))
    const upload = ex.find((e) => e.request.url.endsWith('/files/upload'))
    expect(upload?.request.body.kind).toBe('multipart')
    expect(upload?.request.body.kind === 'multipart' && upload.request.body.parts.some((p) => p.filename)).toBe(true)
    const png = ex.find((e) => e.response?.body.kind === 'bytes' && e.response.body.contentType.startsWith('image/png'))
    expect(png).toBeDefined()
    if (png?.response?.body.kind === 'bytes') expect(Buffer.from(png.response.body.base64, 'base64').subarray(0, 8)).toEqual(PNG_SIGNATURE)
  }, 120_000)
})
