/**
 * Replay that re-records its session: with `mode: 'refresh'` every request goes to the upstream and is answered
 * live, and at `close()` the session is replaced by the live answers, the old file kept as
 * `<name>.before-refresh.json`. Recorded from the plain sandbox, refreshed from the drifted one, `reltape diff` of the
 * two shows exactly the drift: the customer's name and open-ticket count.
 */
import { spawn } from 'node:child_process'
import { existsSync, lstatSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startReplay } from '../replay/start-replay.js'
import { SANDBOX_DRIFT, SANDBOX_TOKENS, startSandbox, type Sandbox } from '../sandbox/index.js'
import { SessionStore } from '../store/store.js'
import { repoRoot, runCli } from './helpers/cli.js'

const API = '/public/api/v1/'
const operator = { authorization: `Client ${SANDBOX_TOKENS.operator}` }
const CALLS = [
  { path: `${API}chats/history`, body: { ChatId: 10, Limit: 50 }, headers: operator },
  { path: `${API}clients/get`, body: { Id: SANDBOX_DRIFT.clientId }, headers: operator },
  { path: `${API}clients/get`, body: { Id: 12 }, headers: operator },
]

type Diff = { equal: boolean; unchanged: number; calls: { key: string; a: number | null; b: number | null; changes: { path: string; kind: string; a?: unknown; b?: unknown }[] }[] }

let home: string
let dir: string
let plain: Sandbox
let drifted: Sandbox

async function callAll(base: string): Promise<unknown[]> {
  const out: unknown[] = []
  for (const c of CALLS) {
    const res = await fetch(base + c.path, { method: 'POST', headers: { 'content-type': 'application/json', ...c.headers }, body: JSON.stringify(c.body) })
    expect(res.status).toBe(200)
    out.push(await res.json())
  }
  return out
}

/** A session recorded from the plain sandbox: an empty session filled by record-missing. */
async function baseline(name: string): Promise<void> {
  await (await new SessionStore(dir).open(name, { recording: { tool: 'test', mode: 'reverse', upstream: null } })).close()
  const r = await startReplay({ session: name, dir, home, mode: 'record-missing', upstream: plain.url })
  try {
    await callAll(r.url)
    expect(r.recorded()).toEqual([1, 2, 3])
  } finally {
    await r.close()
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'reltape-refresh-home-'))
  dir = await mkdtemp(join(tmpdir(), 'reltape-refresh-dir-'))
  plain = await startSandbox({ home })
  drifted = await startSandbox({ home, drift: true })
})

afterAll(async () => {
  await plain?.close()
  await drifted?.close()
  await rm(home, { recursive: true, force: true })
  await rm(dir, { recursive: true, force: true })
})

/** What `reltape diff --json OLD NEW` must say: the drifted fields of the customer, and nothing else. */
function expectExactlyTheDrift(diff: Diff): void {
  expect(diff.equal).toBe(false)
  const changes = diff.calls.flatMap((c) => c.changes.map((ch) => ({ key: c.key, ...ch, a: ch.a, seq: c.a })))
  expect(diff.calls.every((c) => c.a !== null && c.b !== null)).toBe(true)
  expect(changes.length).toBeGreaterThan(0)
  for (const ch of changes) {
    expect(ch.kind).toBe('changed')
    const field = /(Name|TotalOpenTickets)$/.exec(ch.path)?.[1] as keyof typeof SANDBOX_DRIFT.before | undefined
    expect(field, ch.path).toBeDefined()
    expect(ch.a).toEqual(SANDBOX_DRIFT.before[field!])
    expect(ch.b).toEqual(SANDBOX_DRIFT.after[field!])
  }
  // Exactly: the customer as a Rels entity (in the history and beside client 12), and as the Result of clients/get.
  const rel = `Rels.Clients#${SANDBOX_DRIFT.clientId}`
  expect(changes.map((c) => `${c.seq}:${c.path}`)).toEqual([`1:${rel}.Name`, `1:${rel}.TotalOpenTickets`, '2:Result.Name', '2:Result.TotalOpenTickets', `3:${rel}.Name`, `3:${rel}.TotalOpenTickets`])
  expect(diff.unchanged).toBe(0)
}

describe('replay refresh', { timeout: 90_000 }, () => {
  it('answers every call live, replaces the session at close and keeps the old one; diff shows exactly the drift', async () => {
    await baseline('drift')
    const log: string[] = []
    const r = await startReplay({ session: 'drift', dir, home, mode: 'refresh', upstream: drifted.url, log: (l) => log.push(l) })
    try {
      const answers = await callAll(r.url)
      // Answered live: the drifted name, not the recorded one.
      expect(answers[1]).toMatchObject({ OK: true, Result: { Id: SANDBOX_DRIFT.clientId, ...SANDBOX_DRIFT.after } })
      expect(r.recorded()).toEqual([1, 2, 3])
      expect(log.filter((l) => l.startsWith('LIVE'))).toHaveLength(3)
      // Until close the session is the old one, and its lock is held.
      expect((await new SessionStore(dir).read('drift')).exchanges[1]!.response!.body).toMatchObject({ json: { Result: SANDBOX_DRIFT.before } })
      await expect(new SessionStore(dir).open('drift', { recording: { tool: 't', mode: 'forward', upstream: null } })).rejects.toMatchObject({ code: 'SESSION_LOCKED' })
    } finally {
      await r.close()
    }
    expect(log.some((l) => l.startsWith('REFRESH') && l.includes('drift.before-refresh.json'))).toBe(true)
    // Nothing left over: no lock, no journal, no work directory.
    expect(readdirSync(dir).filter((f) => !f.startsWith('.') || f.startsWith('.refresh')).sort()).toEqual(['drift.before-refresh.json', 'drift.json'])
    const fresh = await new SessionStore(dir).read('drift')
    expect(fresh.name).toBe('drift')
    expect(fresh.exchanges).toHaveLength(3)
    expect(fresh.exchanges[1]!.request.url).toBe(`${drifted.url}${CALLS[1]!.path}`)

    const cli = runCli(['diff', 'drift.before-refresh', 'drift', '--dir', dir, '--json'])
    expect(cli.code, cli.stderr).toBe(1)
    expectExactlyTheDrift(JSON.parse(cli.stdout) as Diff)
    const text = runCli(['diff', 'drift.before-refresh', 'drift', '--dir', dir])
    expect(text.stdout).toContain(`Rels.Clients#${SANDBOX_DRIFT.clientId}.Name`)
  })

  it('writes nothing through links planted where it keeps the old session, and keeps it owner-only', async () => {
    await baseline('planted')
    const outside = await mkdtemp(join(tmpdir(), 'reltape-refresh-outside-'))
    try {
      // The names an older reltape wrote the copy through, and the kept file's own name: links to a file outside.
      const victim = join(outside, 'victim.txt')
      writeFileSync(victim, 'not yours')
      symlinkSync(victim, join(dir, 'planted.before-refresh.json.tmp'))
      symlinkSync(victim, join(dir, 'planted.before-refresh.json'))
      const r = await startReplay({ session: 'planted', dir, home, mode: 'refresh', upstream: drifted.url })
      try {
        await callAll(r.url)
      } finally {
        await r.close()
      }
      expect(readFileSync(victim, 'utf8')).toBe('not yours')
      const kept = join(dir, 'planted.before-refresh.json')
      expect(lstatSync(kept).isSymbolicLink()).toBe(false)
      expect(lstatSync(kept).mode & 0o777).toBe(0o600)
      expect((await new SessionStore(dir).read('planted.before-refresh')).exchanges).toHaveLength(3)
    } finally {
      await rm(outside, { recursive: true, force: true })
      await rm(join(dir, 'planted.before-refresh.json.tmp'), { force: true })
    }
  })

  it('leaves the session as it was when nothing was answered live', async () => {
    await baseline('idle')
    const r = await startReplay({ session: 'idle', dir, home, mode: 'refresh', upstream: drifted.url })
    await r.close()
    expect(existsSync(join(dir, 'idle.before-refresh.json'))).toBe(false)
    expect((await new SessionStore(dir).read('idle')).exchanges).toHaveLength(3)
    expect(existsSync(join(dir, 'idle.lock'))).toBe(false)
  })

  it('refuses refresh without an upstream, or of a session not on disk', async () => {
    await expect(startReplay({ session: 'drift', dir, mode: 'refresh' })).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringContaining('--upstream') })
    await expect(startReplay({ session: { name: 'x' } as never, mode: 'refresh', upstream: plain.url })).rejects.toMatchObject({ code: 'OPTION_INVALID' })
  })

  it('reltape replay --refresh does the same from the command line', async () => {
    await baseline('cli')
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/reltape.ts', 'replay', 'cli', '--dir', dir, '--port', '0', '--refresh', '--upstream', drifted.url, '--upstream-ca', drifted.caCertPath], {
      cwd: repoRoot,
      env: { ...process.env, RELTAPE_DEBUG: '', RELTAPE_HOME: home },
    })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    try {
      const deadline = Date.now() + 30_000
      while (!out.includes('Ctrl-C to stop')) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`replay did not start:\n${out}`)
        await new Promise((res) => setTimeout(res, 50))
      }
      expect(out).toContain('refreshing 3 exchange(s)')
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
      await callAll(url)
    } finally {
      child.kill('SIGTERM')
    }
    expect(await exited).toBe(0)
    expect(out).toContain('3 exchange(s) recorded')
    const cli = runCli(['diff', 'cli.before-refresh', 'cli', '--dir', dir, '--json'])
    expect(cli.code, cli.stderr).toBe(1)
    expectExactlyTheDrift(JSON.parse(cli.stdout) as Diff)
  })
})
