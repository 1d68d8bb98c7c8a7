/**
 * Replay that fills its own gaps: with `mode: 'record-missing'` a request the session has no recording for goes to
 * the real upstream (the sandbox) once, is answered live and appended to the session through the store; the next
 * replay answers it offline, with the upstream stopped. The default mode never contacts the upstream.
 */
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Session } from '../model/session.js'
import { startReplay, type ReplayHandle } from '../replay/start-replay.js'
import { SANDBOX_TOKENS, startSandbox, type Sandbox } from '../sandbox/index.js'
import { SessionStore } from '../store/store.js'
import { repoRoot } from './helpers/cli.js'

const SAMPLE = join(repoRoot, 'sessions', 'sample-support-chat.json')
const API = '/public/api/v1/'
/** The operator looks up a client the sample session never asked about. */
const NEW_CALL = { path: `${API}clients/get`, body: { Id: 12 }, headers: { authorization: `Client ${SANDBOX_TOKENS.operator}` } }

let home: string
let dir: string
let sandbox: Sandbox
/** API calls the sandbox answered. */
const upstreamCalls: string[] = []
const open: ReplayHandle[] = []

function post(base: string, call: typeof NEW_CALL): Promise<Response> {
  return fetch(base + call.path, { method: 'POST', headers: { 'content-type': 'application/json', ...call.headers }, body: JSON.stringify(call.body) })
}

async function start(options: Parameters<typeof startReplay>[0]): Promise<ReplayHandle> {
  const r = await startReplay(options)
  open.push(r)
  return r
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'reltape-fill-home-'))
  dir = await mkdtemp(join(tmpdir(), 'reltape-fill-dir-'))
  sandbox = await startSandbox({ home, log: (line) => upstreamCalls.push(line) })
})

afterEach(async () => {
  for (const r of open.splice(0)) await r.close()
})

afterAll(async () => {
  await sandbox.close()
  await rm(home, { recursive: true, force: true })
  await rm(dir, { recursive: true, force: true })
})

describe('replay --record-missing', { timeout: 60_000 }, () => {
  it('records a call the session lacks once, and answers it offline after the upstream is stopped', async () => {
    copyFileSync(SAMPLE, join(dir, 'fill.json'))
    const before = (await new SessionStore(dir).read('fill')).exchanges.length
    const log: string[] = []
    const upstream = await startSandbox({ home })
    const replay = await start({ session: 'fill', dir, home, mode: 'record-missing', upstream: upstream.url, log: (l) => log.push(l) })
    try {
      // A recorded call is answered from the session: the upstream hears nothing of it.
      const recorded = await fetch(`${replay.url}${API}chats/history`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie: `client-session=${SANDBOX_TOKENS.customer}` },
        body: JSON.stringify({ ChatId: 10, Limit: 50 }),
      })
      expect(recorded.status).toBe(200)
      expect(log.filter((l) => l.startsWith('LIVE'))).toEqual([])

      const live = await post(replay.url, NEW_CALL)
      const liveBody = await live.text()
      expect(live.status).toBe(200)
      expect(JSON.parse(liveBody)).toMatchObject({ OK: true, Result: { Id: 12, Name: 'Anna Smirnova' } })
      expect(replay.recorded()).toEqual([before + 1])
      expect(log).toContain(`LIVE POST ${NEW_CALL.path} → ${upstream.url}: 200, recorded as #${before + 1}`)

      // Asked again, it is answered from what was just recorded: the upstream is not asked twice.
      const again = await post(replay.url, NEW_CALL)
      expect(await again.text()).toBe(liveBody)
      expect(replay.recorded()).toEqual([before + 1])
      expect(replay.misses).toEqual([])
      expect(replay.state().recorded).toEqual([before + 1])
    } finally {
      await replay.close()
      await upstream.close()
    }

    // Written through the store: in the session file, the journal folded in, the lock released, the identity known.
    expect(existsSync(join(dir, 'fill.journal'))).toBe(false)
    expect(existsSync(join(dir, 'fill.lock'))).toBe(false)
    const session = await new SessionStore(dir).read('fill')
    expect(session.exchanges).toHaveLength(before + 1)
    const added = session.exchanges.at(-1)!
    expect(added.request.url).toBe(`${upstream.url}${NEW_CALL.path}`)
    expect(added.request.auth).toEqual({ via: 'authorization', identity: 'identity-2' })
    expect(added.response!.body).toMatchObject({ kind: 'json', json: { OK: true, Result: { Id: 12 } } })
    expect(session.identities).toHaveLength(2)

    // The upstream is gone; plain replay answers the new call offline, the same way.
    const offline = await start({ session: 'fill', dir, strict: true })
    const res = await post(offline.url, NEW_CALL)
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ OK: true, Result: { Id: 12, Name: 'Anna Smirnova' } })
    expect(offline.misses).toEqual([])
  })

  it('keeps a redacted session redacted: the live token reaches the upstream and the client, never the file', async () => {
    const redacted = readFileSync(SAMPLE, 'utf8').split(SANDBOX_TOKENS.customer).join('<identity-1>').split(SANDBOX_TOKENS.operator).join('<identity-2>')
    for (const mode of ['record-missing', 'refresh'] as const) {
      const name = `redacted-${mode}`
      writeFileSync(join(dir, `${name}.json`), redacted, { mode: 0o600 })
      const replay = await start({ session: name, dir, home, mode, upstream: sandbox.url })
      const live = await post(replay.url, NEW_CALL)
      expect(live.status).toBe(200)
      expect(await live.json()).toMatchObject({ OK: true, Result: { Id: 12, Name: 'Anna Smirnova' } })
      await replay.close()
      const text = readFileSync(join(dir, `${name}.json`), 'utf8')
      expect({ mode, leaked: text.includes(SANDBOX_TOKENS.operator) }).toEqual({ mode, leaked: false })
      const added = (await new SessionStore(dir).read(name)).exchanges.at(-1)!
      // Its placeholder names its identity (refresh writes a new session, numbered afresh).
      const identity = mode === 'refresh' ? 'identity-1' : 'identity-2'
      expect(added.request.auth).toEqual({ via: 'authorization', identity })
      expect(added.request.headers.find(([n]) => n.toLowerCase() === 'authorization')?.[1]).toBe(`Client <${identity}>`)
    }
  })

  it('holds the session lock while it runs', async () => {
    copyFileSync(SAMPLE, join(dir, 'locked.json'))
    await start({ session: 'locked', dir, home, mode: 'record-missing', upstream: sandbox.url })
    await expect(new SessionStore(dir).open('locked', { recording: { tool: 't', mode: 'forward', upstream: null } })).rejects.toMatchObject({ code: 'SESSION_LOCKED' })
  })

  it('answers 502 ReplayUpstreamFailed when the upstream does not answer, and records nothing', async () => {
    copyFileSync(SAMPLE, join(dir, 'down.json'))
    const gone = await startSandbox({ home })
    const url = gone.url
    await gone.close()
    const replay = await start({ session: 'down', dir, home, mode: 'record-missing', upstream: url })
    const res = await post(replay.url, NEW_CALL)
    expect(res.status).toBe(502)
    expect(res.headers.get('x-reltape')).toBe('upstream-failed')
    const body = (await res.json()) as { OK: boolean; Error: { Code: string; Message: string } }
    expect(body.OK).toBe(false)
    expect(body.Error.Code).toBe('ReplayUpstreamFailed')
    expect(body.Error.Message).toContain('UPSTREAM_UNREACHABLE')
    expect(replay.misses.map((m) => m.reason)).toEqual(['upstream-failed'])
    expect(replay.recorded()).toEqual([])
    await replay.close()
    expect((await new SessionStore(dir).read('down')).exchanges).toHaveLength((await new SessionStore(dir).read('fill')).exchanges.length - 1)
  })

  it('refuses options that do not fit, naming them, before anything is opened', async () => {
    copyFileSync(SAMPLE, join(dir, 'opts.json'))
    await expect(startReplay({ session: 'opts', dir, mode: 'record-missing' })).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringContaining('upstream (--upstream)') })
    await expect(startReplay({ session: 'opts', dir, upstream: sandbox.url })).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringContaining('never contacts an upstream') })
    await expect(startReplay({ session: 'opts', dir, mode: 'rerecord' as never, upstream: sandbox.url })).rejects.toMatchObject({ code: 'OPTION_INVALID' })
    const inMemory = JSON.parse(readFileSync(SAMPLE, 'utf8')) as Session
    await expect(startReplay({ session: inMemory, mode: 'record-missing', upstream: sandbox.url })).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringContaining('session on disk') })
    await expect(startReplay({ session: 'opts', dir, mode: 'record-missing', upstream: `${sandbox.url}/api` })).rejects.toMatchObject({ code: 'OPTION_INVALID' })
    await expect(startReplay({ session: 'opts', dir, mode: 'record-missing', upstream: sandbox.url, upstreamCaFiles: [join(dir, 'nope.pem')] })).rejects.toMatchObject({
      code: 'OPTION_INVALID',
      message: expect.stringContaining('--upstream-ca'),
    })
    expect(existsSync(join(dir, 'opts.lock'))).toBe(false)
  })

  it('leaves the default mode offline: a miss is a 404 and the upstream hears nothing', async () => {
    copyFileSync(SAMPLE, join(dir, 'plain.json'))
    const heard = upstreamCalls.length
    const replay = await start({ session: 'plain', dir })
    expect((await post(replay.url, NEW_CALL)).status).toBe(404)
    expect(upstreamCalls.length).toBe(heard)
    expect(replay.recorded()).toEqual([])
  })

  /** `reltape replay NAME --record-missing` as a child process, once it has printed its banner. */
  async function replayCli(name: string): Promise<{ url: string; out: () => string; stop: (signal: NodeJS.Signals) => Promise<number | null> }> {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bin/reltape.ts', 'replay', name, '--dir', dir, '--port', '0', '--record-missing', '--upstream', sandbox.url, '--upstream-ca', sandbox.caCertPath],
      { cwd: repoRoot, env: { ...process.env, RELTAPE_DEBUG: '', RELTAPE_HOME: home } },
    )
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve))
    const deadline = Date.now() + 30_000
    while (!out.includes('Ctrl-C to stop')) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL')
        throw new Error(`replay did not start:\n${out}`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!
    return { url, out: () => out, stop: (signal) => (child.kill(signal), exited) }
  }

  it('reltape replay --record-missing does the same from the command line', async () => {
    copyFileSync(SAMPLE, join(dir, 'cli.json'))
    const run = await replayCli('cli')
    try {
      expect(run.out()).toContain(`records what is missing from ${sandbox.url}`)
      expect((await post(run.url, NEW_CALL)).status).toBe(200)
    } finally {
      expect(await run.stop('SIGTERM')).toBe(0)
    }
    expect(run.out()).toContain('1 exchange(s) recorded')
    const session = await new SessionStore(dir).read('cli')
    expect(session.exchanges.at(-1)!.request.url).toBe(`${sandbox.url}${NEW_CALL.path}`)
  })

  it('keeps what it recorded when it is killed: the exchange was journaled before the client got its answer', async () => {
    copyFileSync(SAMPLE, join(dir, 'killed.json'))
    const before = (await new SessionStore(dir).read('killed')).exchanges.length
    const run = await replayCli('killed')
    let answered: unknown
    try {
      answered = await (await post(run.url, NEW_CALL)).json()
    } finally {
      await run.stop('SIGKILL')
    }
    // The next opener folds the journal the killed replay left.
    const session = await new SessionStore(dir).read('killed')
    expect(session.exchanges).toHaveLength(before + 1)
    expect(session.exchanges.at(-1)!.response!.body).toMatchObject({ kind: 'json', json: answered as object })
    expect(existsSync(join(dir, 'killed.journal'))).toBe(false)
  })
})
