/**
 * One error registry: every code in `model/errors.ts` is in the README's table with the same exit code and HTTP
 * status (and nothing else is), and failures a user can cause reach them with the registry's code and exit code,
 * through the CLI as through the API.
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type AddressInfo, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ERRORS, errorInfo, PortInUseError, ReltapeError, type ErrorCode } from '../model/errors.js'
import { startReplay } from '../replay/start-replay.js'
import { JournalError } from '../store/journal.js'
import { toErrorBody } from '../viewer/errors.js'
import { startViewer } from '../viewer/server.js'
import { repoRoot, runCli } from './helpers/cli.js'

const EXAMPLE = join(import.meta.dirname, 'fixtures/sessions/example.json')

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'reltape-errors-'))
  cleanup.push(() => rm(d, { recursive: true, force: true }))
  return d
}

/** A port some other server holds. */
async function takenPort(): Promise<number> {
  const blocker: Server = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  cleanup.push(() => new Promise((resolve) => blocker.close(resolve)))
  return (blocker.address() as AddressInfo).port
}

/** The rows of the README's "Error codes" table: code → exit and HTTP status as written. */
function readmeTable(): Map<string, { exit: number; status: number }> {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8')
  const rows = new Map<string, { exit: number; status: number }>()
  for (const m of readme.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| (\d) \| (\d{3}) \| .+ \|$/gm)) rows.set(m[1]!, { exit: Number(m[2]), status: Number(m[3]) })
  return rows
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const started = await p
    cleanup.push(() => (started as { close(): Promise<void> }).close())
  } catch (e) {
    return e
  }
  throw new Error('expected the start to fail')
}

describe('the error registry', () => {
  it('lists every code in the README with its exit code and HTTP status, and the README lists no other', () => {
    const table = readmeTable()
    const registry = Object.fromEntries(Object.entries(ERRORS).map(([code, s]) => [code, { exit: s.exit, status: s.status }]))
    expect(Object.fromEntries(table)).toEqual(registry)
  })

  it('gives every code an UPPER_SNAKE name, exit 1 or 2, an HTTP error status and a one-line description', () => {
    for (const [code, s] of Object.entries(ERRORS)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/)
      expect([1, 2], code).toContain(s.exit)
      expect(s.status >= 400 && s.status < 600, code).toBe(true)
      expect(s.description, code).not.toMatch(/\n/)
    }
  })

  it('maps an error with no registry code to exit 1 and status 500', () => {
    expect(errorInfo(new Error('boom'))).toEqual({ code: null, exit: 1, status: 500 })
    expect(errorInfo(Object.assign(new Error('x'), { code: 'ENOENT' }))).toEqual({ code: null, exit: 1, status: 500 })
    // By code too: an error from another copy of the module (the built CLI and the sources) is still recognised.
    expect(errorInfo({ code: 'SESSION_LOCKED', message: 'x' })).toEqual({ code: 'SESSION_LOCKED', exit: 1, status: 409 })
  })

  it('builds the message from the code\'s template', () => {
    const e = new ReltapeError('SESSION_NOT_FOUND', { session: 'chat-stroy', dir: '/s', available: ['chat-story'] })
    expect(e).toMatchObject({ code: 'SESSION_NOT_FOUND', exit: 1, status: 404, message: 'no session "chat-stroy" in /s; sessions there: chat-story' })
  })
})

describe('failures a user can cause', () => {
  it('a session that does not exist: the CLI names the code and exits with its exit code', async () => {
    const dir = await tempDir()
    copyFileSync(EXAMPLE, join(dir, 'example.json'))
    const r = runCli(['replay', 'exampel', '--dir', dir, '--port', '0'])
    expect(r.code).toBe(ERRORS.SESSION_NOT_FOUND.exit)
    expect(r.stderr.trim()).toBe(`reltape: no session "exampel" in ${dir}; sessions there: example [SESSION_NOT_FOUND]`)
  })

  it('a bad recorder option: OPTION_INVALID naming the flag, exit 2, before anything is created', async () => {
    const home = await tempDir()
    const r = runCli(['record', '--upstream', 'ftp://api.example', '--port', '0', '--dir', home], { RELTAPE_HOME: home })
    expect(r.code).toBe(ERRORS.OPTION_INVALID.exit)
    expect(r.stderr.trim()).toBe('reltape: upstream (--upstream): must be an http or https URL, not ftp: [OPTION_INVALID]')
    const missingCa = runCli(['record', '--upstream-ca', join(home, 'nope.pem'), '--port', '0', '--dir', home], { RELTAPE_HOME: home })
    expect(missingCa.code).toBe(2)
    expect(missingCa.stderr).toContain(`upstreamCaFiles (--upstream-ca): ${join(home, 'nope.pem')}: cannot be read (ENOENT)`)
    // Neither a CA nor a session was made for a recorder that could not start.
    expect(readdirSync(home)).toEqual([])
  })

  it('a port in use: one PORT_IN_USE for replay and the viewer, from their APIs and from the CLI', async () => {
    const port = await takenPort()
    const dir = await tempDir()
    // A copy: a reader writes its index beside the session, and committed fixtures stay untouched.
    const session = join(dir, 'example.json')
    copyFileSync(EXAMPLE, session)
    const expected = `127.0.0.1:${port} is already in use by another process; stop it, or choose another port with --port (0 picks a free one)`

    const fromReplay = await rejection(startReplay({ session, port }))
    const fromViewer = await rejection(startViewer({ dir, port, config: {} }))
    for (const e of [fromReplay, fromViewer]) {
      expect(e).toBeInstanceOf(PortInUseError)
      expect(e).toMatchObject({ code: 'PORT_IN_USE', host: '127.0.0.1', port, message: expected })
      expect(errorInfo(e)).toMatchObject({ code: 'PORT_IN_USE', exit: ERRORS.PORT_IN_USE.exit })
    }

    for (const args of [['replay', session, '--port', String(port)], ['view', '--dir', dir, '--port', String(port)]]) {
      const r = runCli(args)
      expect(r.code, args[0]).toBe(ERRORS.PORT_IN_USE.exit)
      expect(r.stderr.trim(), args[0]).toBe(`reltape: ${expected} [PORT_IN_USE]`)
    }
  }, 60_000)

  it('a bad journal keeps its own code in the viewer: JOURNAL_INVALID with the registry\'s status', () => {
    const body = toErrorBody(new JournalError('/s/x.journal', 2, 'not valid JSON'))
    const code: ErrorCode = 'JOURNAL_INVALID'
    expect(body).toEqual({ statusCode: ERRORS[code].status, code, error: 'Unprocessable Entity', message: '/s/x.journal:2: not valid JSON' })
  })
})
