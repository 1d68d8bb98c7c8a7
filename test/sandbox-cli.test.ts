import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Agent, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import { SANDBOX_TOKENS } from '../sandbox/index.js'

const repo = fileURLToPath(new URL('..', import.meta.url))

type Run = { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> }

function runCli(args: string[], home: string): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/reltape.ts', ...args], {
    cwd: repo,
    env: { ...process.env, RELTAPE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

// Generous: starting tsx and making an RSA key take seconds on a loaded 2-core machine.
async function waitForOutput(run: Run, pattern: RegExp, ms = 60_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms
  for (;;) {
    const m = pattern.exec(run.stdout())
    if (m) return m
    if (run.child.exitCode !== null) throw new Error(`reltape exited ${run.child.exitCode}: ${run.stderr()}`)
    if (Date.now() > deadline) throw new Error(`no ${pattern} in output: ${run.stdout()} ${run.stderr()}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('reltape sandbox (the CLI)', () => {
  const cleanup: Array<() => Promise<void> | void> = []
  afterEach(async () => {
    for (const f of cleanup.splice(0).reverse()) await f()
  })

  async function tempHome(): Promise<string> {
    const home = await mkdtemp(join(tmpdir(), 'reltape-sandbox-cli-'))
    cleanup.push(() => rm(home, { recursive: true, force: true }))
    return home
  }

  it('with --port 0 prints the real URL, the tokens and a curl line, answers, and stops cleanly on SIGTERM', async () => {
    const home = await tempHome()
    const run = runCli(['sandbox', '--port', '0'], home)
    cleanup.push(() => void (run.child.exitCode === null && run.child.kill('SIGKILL')))
    const [, url] = await waitForOutput(run, /sandbox API:\s+(https:\/\/localhost:\d+)\/public\/api\/v1\//)
    await waitForOutput(run, /Ctrl-C/)
    expect(run.stdout()).toContain(SANDBOX_TOKENS.customer)
    expect(run.stdout()).toContain(SANDBOX_TOKENS.operator)
    expect(run.stdout()).toMatch(/app page:\s+http:\/\/localhost:\d+\//)
    expect(run.stdout()).toContain(`curl --compressed --cacert ${join(home, 'ca.pem')}`)

    const agent = new Agent({ connect: { ca: await readFile(join(home, 'ca.pem'), 'utf8') } })
    cleanup.push(() => agent.close())
    const res = await request(`${url}/public/api/v1/chats/history`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', authorization: `Client ${SANDBOX_TOKENS.operator}` },
      body: '{}',
    })
    expect(await res.body.json()).toMatchObject({ OK: true, Error: null })

    run.child.kill('SIGTERM')
    expect(await run.exit).toBe(0)
    expect(run.stdout()).toContain('sandbox stopped')
  }, 90_000)

  it('a port in use → exit 1 with the port named', async () => {
    const home = await tempHome()
    const blocker: Server = createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    cleanup.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())))
    const port = (blocker.address() as { port: number }).port

    const run = runCli(['sandbox', '--port', String(port)], home)
    cleanup.push(() => void (run.child.exitCode === null && run.child.kill('SIGKILL')))
    expect(await run.exit).toBe(1)
    expect(run.stderr()).toContain(`127.0.0.1:${port}`)
    expect(run.stderr()).toContain('already in use')
  }, 90_000)

  it('a bad --port is a usage error (exit 2)', async () => {
    const run = runCli(['sandbox', '--port', 'eighty'], await tempHome())
    expect(await run.exit).toBe(2)
    expect(run.stderr()).toContain('--port')
  }, 60_000)
})
