/** `reltape view` as a user runs it: prints its URL, serves the directory, stops on SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { repoRoot, runCli } from './helpers/cli.js'

const children: ChildProcess[] = []
const servers: Server[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r))
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function fixtureDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-cli-'))
  dirs.push(dir)
  await cp(new URL('./fixtures/viewer/sessions/', import.meta.url), dir, { recursive: true })
  return dir
}

function startView(args: string[]): { child: ChildProcess; output: () => string; url: Promise<string>; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin/reltape.ts'), 'view', ...args], {
    cwd: repoRoot,
    env: { ...process.env, RELTAPE_DEBUG: '' },
  })
  children.push(child)
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr.on('data', (d: Buffer) => (out += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL printed within 60 s:\n${out}`)), 60_000)
    const check = () => {
      const m = /reltape view: (http:\/\/\S+)/.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout.on('data', check)
    void exit.then(() => {
      clearTimeout(timer)
      reject(new Error(`exited before printing its URL:\n${out}`))
    })
  })
  url.catch(() => undefined)
  return { child, output: () => out, url, exit }
}

describe('reltape view', () => {
  it('prints its URL, serves the sessions, and exits cleanly on SIGTERM', async () => {
    const dir = await fixtureDir()
    const view = startView(['--port', '0', '--dir', dir])
    const url = await view.url
    // The printed link holds this run's access token; the API answers only with it.
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/)
    const token = new URL(url).searchParams.get('token')
    expect((await fetch(new URL('/api/sessions', url))).status).toBe(401)
    const list = (await (await fetch(new URL('/api/sessions', url), { headers: { authorization: `Bearer ${token}` } })).json()) as { name: string }[]
    expect(list.map((s) => s.name)).toContain('example')
    view.child.kill('SIGTERM')
    expect(await view.exit).toBe(0)
  }, 90_000) // a cold `node --import tsx` start takes seconds on a loaded 2-core machine

  it('names the port when it is taken (exit 1)', async () => {
    const blocker = createServer()
    servers.push(blocker)
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as { port: number }).port
    const view = startView(['--port', String(port), '--dir', await fixtureDir()])
    expect(await view.exit).toBe(1)
    expect(view.output()).toContain(`127.0.0.1:${port} is already in use`)
  }, 90_000)

  it('refuses a port that is not a number (exit 2)', () => {
    const r = runCli(['view', '--port', 'abc'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--port takes a whole number')
  }, 90_000)
})
