/**
 * `reltape verify` as a tester uses it: a support chat recorded from the sandbox yesterday, sent again today to a
 * sandbox whose data drifted (the customer renamed, their ticket closed, tokens and everything else the same).
 * Verify names exactly those changes and nothing else; against an unchanged sandbox it finds none; it asks before
 * sending and sends nothing when it cannot ask; a redacted session needs the live tokens, and says so first.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Change } from '../model/diff.js'
import type { Session } from '../model/session.js'
import { startRecorder } from '../recorder/index.js'
import { playStory, SANDBOX_DRIFT, SANDBOX_TOKENS, startSandbox, type Sandbox } from '../sandbox/index.js'
import { SessionStore } from '../store/store.js'
import { tokenHash } from '../store/token-hash.js'
import { repoRoot } from './helpers/cli.js'

type Result = { equal: boolean; unchanged: number; calls: { key: string; a: number | null; b: number | null; changes: Change[] }[]; sent: number; skipped: unknown[]; saved: string | null }
type Run = { code: number | null; stdout: string; stderr: string }

let home: string
let dir: string
let story: Session
const sandboxes: Sandbox[] = []

/** Timestamps the sandbox takes from its clock differ on every run, as a real API's do: left out, as a user would. */
const CLOCK_FIELDS = ['--ignore-field', 'Result.CreatedAt', '--ignore-field', 'Result.ReceivedAt']

/** The CLI as a child process (asynchronous: the sandbox it talks to lives in this process). */
function reltape(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bin/reltape.ts', ...args], {
      cwd: repoRoot,
      env: { ...process.env, RELTAPE_DEBUG: '', RELTAPE_HOME: home, RELTAPE_DIR: dir },
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A fresh sandbox (each verify changes its world: messages sent, a file uploaded), counting the calls it answers. */
async function sandbox(drift = false): Promise<Sandbox & { calls: string[] }> {
  const calls: string[] = []
  const s = await startSandbox({ home, drift, log: (line) => calls.push(line) })
  sandboxes.push(s)
  return Object.assign(s, { calls })
}

const verify = (s: Sandbox, ...args: string[]) => reltape(['verify', 'story', '--upstream', s.url, '--upstream-ca', s.caCertPath, ...args])

/** The changes the drift must cause in one recorded exchange, worked out from what it recorded. */
function expectedDrift(seq: number): Change[] {
  const body = story.exchanges.find((e) => e.seq === seq)!.response!.body
  if (body.kind !== 'json') return []
  const env = body.json as { Result?: { Id?: unknown }; Rels?: { Clients?: { Id: number }[] } }
  const fields = Object.keys(SANDBOX_DRIFT.after) as (keyof typeof SANDBOX_DRIFT.after)[]
  const out: Change[] = []
  if (env.Result?.Id === SANDBOX_DRIFT.clientId) for (const f of fields) out.push({ path: `Result.${f}`, kind: 'changed', a: SANDBOX_DRIFT.before[f], b: SANDBOX_DRIFT.after[f] })
  if (env.Rels?.Clients?.some((c) => c.Id === SANDBOX_DRIFT.clientId))
    for (const f of fields) out.push({ path: `Rels.Clients#${SANDBOX_DRIFT.clientId}.${f}`, kind: 'changed', a: SANDBOX_DRIFT.before[f], b: SANDBOX_DRIFT.after[f] })
  return out
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'reltape-verify-home-'))
  dir = await mkdtemp(join(tmpdir(), 'reltape-verify-dir-'))
  const yesterday = await startSandbox({ home })
  const rec = await startRecorder({ home, dir, port: 0, session: 'story', upstream: yesterday.url, log: () => {} })
  try {
    const agent = new Agent({ connect: { ca: await readFile(rec.ca.certPath, 'utf8') } })
    await playStory({ apiUrl: rec.url, dispatcher: agent })
    await rec.settle()
    await agent.close()
  } finally {
    await rec.stop(0)
    await yesterday.close()
  }
  story = await new SessionStore(dir).read('story')
}, 60_000)

afterAll(async () => {
  for (const s of sandboxes) await s.close()
  await rm(home, { recursive: true, force: true })
  await rm(dir, { recursive: true, force: true })
})

describe('reltape verify against the sandbox', { timeout: 90_000 }, () => {
  it('finds nothing between a session and itself (reltape diff)', async () => {
    const r = await reltape(['diff', 'story', 'story'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toBe(`${story.exchanges.length} call(s) unchanged, 0 changed, 0 only in A, 0 only in B`)
  })

  it('finds no drift when the API has not changed (exit 0), after saying what it sends where', async () => {
    const today = await sandbox()
    const r = await verify(today, '--yes', ...CLOCK_FIELDS)
    expect(r.stderr).toContain(`${story.exchanges.length} call(s) of session "story" will be sent to ${today.url}, one at a time, in seq order`)
    expect(r.stderr).toMatch(new RegExp(`${story.exchanges.length} call\\(s\\) recorded at \\S+ → localhost:${today.port}`))
    expect(r.stderr).toMatch(/as identity-1: \d+ call\(s\), recorded token; identity-2: \d+ call\(s\), recorded token/)
    expect(r.stdout.trim()).toBe(`${story.exchanges.length} call(s) unchanged, 0 changed, 0 only in A, 0 only in B`)
    expect(r.code).toBe(0)
    // Every call reached the live API, in the recorded order, none refused for its token.
    expect(today.calls.map((l) => l.split(' ')[1])).toEqual(story.exchanges.map((e) => new URL(e.request.url).pathname))
    expect(today.calls.some((l) => l.includes('Unauthorized'))).toBe(false)
  })

  it('reports exactly the drift, and saves the live answers as a new session', async () => {
    const today = await sandbox(true)
    const r = await verify(today, '--yes', '--json', '--save', 'today', ...CLOCK_FIELDS)
    expect(r.code, r.stderr).toBe(1)
    const result = JSON.parse(r.stdout) as Result
    const expected = story.exchanges.map((e) => ({ seq: e.seq, changes: expectedDrift(e.seq) })).filter((e) => e.changes.length)
    expect(expected.length).toBeGreaterThan(3) // the customer is in most answers' Rels
    expect(result.calls.map((c) => ({ seq: c.a, changes: c.changes }))).toEqual(expected)
    expect(result.calls.every((c) => c.a === c.b)).toBe(true)
    expect(result.unchanged).toBe(story.exchanges.length - expected.length)
    expect(result).toMatchObject({ equal: false, sent: story.exchanges.length, skipped: [], saved: 'today' })

    // The saved session is the live side: diffing it with the recording finds the same drift.
    const saved = await new SessionStore(dir).read('today')
    expect(saved.exchanges).toHaveLength(story.exchanges.length)
    expect(saved.recording).toMatchObject({ mode: 'reverse', upstream: today.url })
    expect(saved.identities.map((i) => i.tokenHash).sort()).toEqual([tokenHash(SANDBOX_TOKENS.customer), tokenHash(SANDBOX_TOKENS.operator)].sort())
    // The messages went out with LocalIds of their own (the client's clock), not the recorded ones.
    const localIds = (x: Session) => x.exchanges.flatMap((e) => (e.request.body.kind === 'json' ? [(e.request.body.json as { LocalId?: number }).LocalId] : [])).filter((id) => id !== undefined)
    expect(localIds(saved)).toHaveLength(2)
    for (const id of localIds(saved)) expect(localIds(story)).not.toContain(id)
    const d = await reltape(['diff', 'story', 'today', '--json', ...CLOCK_FIELDS])
    expect(d.code).toBe(1)
    expect((JSON.parse(d.stdout) as Result).calls.map((c) => ({ seq: c.a, changes: c.changes }))).toEqual(expected)
  })

  it('prints the drift as reltape diff does, calls in flight at once still in order', async () => {
    const today = await sandbox(true)
    const r = await verify(today, '--yes', '--concurrency', '3', ...CLOCK_FIELDS)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('up to 3 at a time, started in seq order')
    expect(r.stdout).toMatch(/^POST \/public\/api\/v1\/clients\/get #1 \(A #5, B #5\)\n {2}changed {2}Result\.Name: "Ivan Petrov" → "Ivan Petrov-Vodkin"\n {2}changed {2}Result\.TotalOpenTickets: 1 → 0$/m)
    expect(r.stdout).toMatch(/^ {2}changed {2}Rels\.Clients#11\.Name: "Ivan Petrov" → "Ivan Petrov-Vodkin"$/m)
    const expected = story.exchanges.filter((e) => expectedDrift(e.seq).length).length
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`${story.exchanges.length - expected} call(s) unchanged, ${expected} changed, 0 only in A, 0 only in B`)
    const headers = [...r.stdout.matchAll(/^POST \S+ #\d+ \(A #(\d+), B #(\d+)\)$/gm)].map((m) => [Number(m[1]), Number(m[2])])
    expect(headers.map(([a]) => a)).toEqual([...headers.map(([a]) => a!)].sort((x, y) => x - y))
    expect(headers.every(([a, b]) => a === b)).toBe(true)
  })

  it('sends nothing without --yes when standard input is not a terminal (exit 2)', async () => {
    const today = await sandbox()
    const r = await verify(today)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('will be sent to')
    expect(r.stderr).toContain('[VERIFY_NOT_CONFIRMED]')
    expect(r.stderr).toContain('give --yes')
    expect(today.calls).toEqual([])
  })

  it('needs the live tokens of a redacted session, says so before sending anything, and keeps them out of what it saves', async () => {
    // The session as `record --redact` stores it: each token as its identity's placeholder.
    let text = readFileSync(join(dir, 'story.json'), 'utf8')
    const aliases = new Map(story.identities.map((i) => [i.tokenHash, i.alias]))
    const aliasOf = (token: string) => aliases.get(tokenHash(token))!
    for (const token of Object.values(SANDBOX_TOKENS)) text = text.split(token).join(`<${aliasOf(token)}>`)
    writeFileSync(join(dir, 'redacted.json'), text.replaceAll('"name": "story"', '"name": "redacted"'), { mode: 0o600 })

    const today = await sandbox()
    const args = (s: Sandbox, ...more: string[]) => reltape(['verify', 'redacted', '--upstream', s.url, '--upstream-ca', s.caCertPath, '--yes', ...more])
    const refused = await args(today)
    expect(refused.code).toBe(2)
    expect(refused.stderr).toContain('[TOKEN_REQUIRED]')
    expect(refused.stderr).toMatch(/identity-1 \(first used by #1\), identity-2 \(first used by #\d+\)/)
    expect(refused.stderr).toContain('--token ALIAS=TOKEN')
    expect(today.calls).toEqual([])

    const unknown = await args(today, '--token', 'identity-9=abc')
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('has no identity "identity-9"')

    const tokens = Object.values(SANDBOX_TOKENS).flatMap((t) => ['--token', `${aliasOf(t)}=${t}`])
    const r = await args(today, ...tokens, '--save', 'redacted-today', ...CLOCK_FIELDS)
    expect(r.stderr).toMatch(/identity-1: \d+ call\(s\), token from --token/)
    expect(r.stdout.trim()).toBe(`${story.exchanges.length} call(s) unchanged, 0 changed, 0 only in A, 0 only in B`)
    expect(r.code).toBe(0)
    expect(today.calls.some((l) => l.includes('Unauthorized'))).toBe(false)
    const saved = readFileSync(join(dir, 'redacted-today.json'), 'utf8')
    for (const token of Object.values(SANDBOX_TOKENS)) expect(saved).not.toContain(token)
    expect(saved).toContain('<identity-1>')
  })
})
