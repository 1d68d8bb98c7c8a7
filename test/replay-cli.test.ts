import { spawn, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { CHAT_STORY, PATHS, postJson } from './fixtures/replay/helpers.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function reltape(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/reltape.ts', ...args], { cwd: ROOT, env: { ...process.env, RELTAPE_DEBUG: '' } })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  // 'close', not 'exit': it comes after the output has been read to the end.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return { child, out: () => out, err: () => err, exited }
}

async function until(check: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

// Each test starts the CLI through tsx, which takes seconds on a busy machine.
describe('reltape replay (CLI)', { timeout: 60_000 }, () => {
  it('prints the address, session, counts and rules, logs a line per request, and stops cleanly', async () => {
    const run = reltape(['replay', CHAT_STORY, '--port', '0', '--strict', '--ignore-field', 'LocalId', '--echo-field', 'LocalId'])
    // The banner ends with the control line; stdout may arrive in pieces.
    await until(() => run.out().includes('Ctrl-C to stop'), 'the start banner')
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(run.out())![1]!
    expect(run.out()).toContain(`session: ${CHAT_STORY}`)
    expect(run.out()).toContain('serving 7 exchange(s) under 6 distinct key(s)')
    expect(run.out()).toContain('ignore fields: LocalId')
    expect(run.out()).toContain('miss (--strict)')

    expect((await postJson(url, PATHS.send, { LocalId: 3, Payload: 'text', Text: '!' })).status).toBe(200)
    expect((await postJson(url, PATHS.send, { LocalId: 4, Payload: 'text', Text: '!' })).status).toBe(404)
    expect((await postJson(url, PATHS.history, { ChatId: 12 })).status).toBe(404)
    await until(() => run.out().includes('differs in body field ChatId'), 'the miss line')
    expect(run.out()).toContain(`HIT  POST ${PATHS.send} → #3 (1/1)`)
    expect(run.out()).toContain(`MISS POST ${PATHS.send}: all 1 recording(s) of POST ${PATHS.send} were already served (strict mode)`)
    expect(run.out()).toContain(`MISS POST ${PATHS.history}: nearest #1 differs in body field ChatId\n`)

    run.child.kill('SIGTERM')
    expect(await run.exited).toBe(0)
    expect(run.out()).toContain('stopping: 2 miss(es), 6 recording(s) never used')
  })

  it('a session that does not exist: exit 1, and the sessions that do are listed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reltape-replay-cli-'))
    dirs.push(dir)
    copyFileSync(CHAT_STORY, join(dir, 'chat-story.json'))
    const run = reltape(['replay', 'chat', '--dir', dir])
    expect(await run.exited).toBe(1)
    expect(run.err()).toContain(`no session "chat" in ${dir}; sessions there: chat-story`)
  })

  it('a bad --latency value is a usage error (exit 2)', async () => {
    const run = reltape(['replay', CHAT_STORY, '--latency', 'fast'])
    expect(await run.exited).toBe(2)
    expect(run.err()).toContain('--latency takes "recorded" or "none", not "fast"')
  })
})
