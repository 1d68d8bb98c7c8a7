/**
 * The viewer's access token: a session file is 0600 because it holds live tokens, and the viewer must not hand them
 * to any other local user who finds its port. Its API and event streams answer only requests that bring the token
 * printed in its link; the UI's files stay public. Real servers on port 0, real sockets.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ERRORS } from '../../model/errors.js'
import { newViewerToken } from '../../viewer/auth.js'
import { buildViewerApp, startViewer, type RunningViewer } from '../../viewer/server.js'
import { repoRoot } from '../helpers/cli.js'
import { tempDir } from '../helpers/recorder-env.js'

const FIXTURES = new URL('../fixtures/viewer/sessions/', import.meta.url)
/** A live cookie recorded in the fixture session (exchange 1). */
const RECORDED_TOKEN = '973b38b354a508bf13244b2655077895c78f1e86.aaaa7e84433b0901c502a5f7d38c71ee'

/** Every API route the UI uses, with the fixture's session and an exchange that has bodies. */
const API_PATHS = [
  '/api/sessions',
  '/api/sessions/example',
  '/api/sessions/example/exchanges',
  '/api/sessions/example/exchanges/1',
  '/api/sessions/example/exchanges/1/raw/request',
  '/api/sessions/example/exchanges/4/raw/response?inline=1',
  '/api/config',
]
const STREAMS = ['/api/events', '/api/sessions/example/events', '/api/sessions/example/events?afterSeq=0']

let root: string
let viewer: RunningViewer
const cleanup: Array<() => Promise<unknown>> = []

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'reltape-viewer-token-'))
  await cp(FIXTURES, join(root, 'sessions'), { recursive: true })
  // A stand-in UI: what matters here is that the page's files are served without the token.
  await mkdir(join(root, 'ui', 'assets'), { recursive: true })
  await writeFile(join(root, 'ui', 'index.html'), '<!doctype html><title>reltape viewer</title><script type="module" src="./assets/app.js"></script>')
  await writeFile(join(root, 'ui', 'assets', 'app.js'), 'console.log("ui")')
  viewer = await startViewer({ dir: join(root, 'sessions'), uiDir: join(root, 'ui'), port: 0, config: {} })
})
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})
afterAll(async () => {
  await viewer?.close()
  await rm(root, { recursive: true, force: true })
})

const at = (path: string) => new URL(path, viewer.url)
const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

/** A GET that never hangs on an event stream: the status, headers and the first bytes of the body, then it aborts. */
async function peek(path: string, headers: Record<string, string> = {}): Promise<{ status: number; type: string; headers: Headers; text: string }> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), 10_000)
  try {
    const res = await fetch(at(path), { headers, signal: abort.signal })
    const type = res.headers.get('content-type') ?? ''
    const reader = (res.body as ReadableStream<Uint8Array>).getReader()
    let text = ''
    const decoder = new TextDecoder()
    try {
      // An answer's whole body, or a stream up to its first event (a 401 ends by itself).
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        text += decoder.decode(value, { stream: true })
        if (type.startsWith('text/event-stream') && /event: \w+\ndata: .*\n\n/.test(text)) break
      }
    } catch {
      // the bound ran out on a quiet stream: what arrived is the answer
    }
    return { status: res.status, type, headers: res.headers, text }
  } finally {
    clearTimeout(timer)
    abort.abort()
  }
}

/** A raw request whose path is sent as written (fetch would normalise `%61pi`). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const url = at('/')
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET', timeout: 10_000 }, (res) => {
      let body = ''
      res.on('data', (d: Buffer) => (body += d.toString()))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error(`no answer for ${path}`)))
    req.on('error', reject)
    req.end()
  })
}

function expectRefused(r: { status: number; type: string; headers: Headers; text: string }, problem: 'missing' | 'wrong', path: string): void {
  expect(r.status, path).toBe(401)
  expect(r.type, path).toMatch(/^application\/json/)
  expect(r.headers.get('www-authenticate'), path).toBe('Bearer realm="reltape viewer"')
  const body = JSON.parse(r.text) as { statusCode: number; code: string; error: string; message: string }
  expect(body, path).toMatchObject({ statusCode: 401, code: 'VIEWER_TOKEN_REQUIRED', error: 'Unauthorized' })
  expect(body.message, path).toContain('open the link that `reltape view` (or `reltape demo`) printed')
  expect(body.message, path).toContain(problem === 'missing' ? 'needs this run' : 'not the viewer')
  // Nothing recorded leaks with the refusal: no session name, no recorded token.
  expect(r.text, path).not.toContain('example')
  expect(r.text, path).not.toContain(RECORDED_TOKEN)
}

describe("the viewer's link", () => {
  it('holds a fresh token of at least 128 bits, base64url, in its query; each run has its own', async () => {
    const url = new URL(viewer.url)
    expect(url.pathname).toBe('/')
    expect(url.searchParams.get('token')).toBe(viewer.token)
    expect(viewer.token).toMatch(/^[A-Za-z0-9_-]{43}$/) // 32 random bytes
    const other = await startViewer({ dir: join(root, 'sessions'), port: 0, config: {} })
    cleanup.push(() => other.close())
    expect(other.token).not.toBe(viewer.token)
    // A token from another run opens nothing here.
    expectRefused(await peek('/api/sessions', bearer(other.token as string)), 'wrong', 'other run')
  })
})

describe('without the token', () => {
  it('every API route answers 401 VIEWER_TOKEN_REQUIRED, saying to open the printed link, and no session data', async () => {
    for (const path of API_PATHS) expectRefused(await peek(path), 'missing', path)
  })

  it('the event streams answer 401 too, and never open', async () => {
    for (const path of STREAMS) {
      const r = await peek(path)
      expect(r.type, path).not.toMatch(/event-stream/)
      expectRefused(r, 'missing', path)
    }
  })

  it('a wrong token is refused the same way, whatever its length or where it is sent', async () => {
    const token = viewer.token as string
    const flipped = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    for (const wrong of [flipped, token.slice(0, -1), `${token}x`, 'x', newViewerToken()]) {
      expectRefused(await peek('/api/sessions', bearer(wrong)), 'wrong', `header ${wrong}`)
      expectRefused(await peek(`/api/events?token=${encodeURIComponent(wrong)}`), 'wrong', `query ${wrong}`)
    }
    // The right token under another scheme, or twice in the query, is not the token.
    expectRefused(await peek('/api/sessions', { authorization: `Basic ${token}` }), 'missing', 'Basic')
    expectRefused(await peek(`/api/sessions?token=${token}&token=${token}`), 'missing', 'twice')
  })

  it('no spelling of an API path gets past the check', async () => {
    for (const path of ['/%61pi/sessions', '/api/sessions/', '/api//sessions', '/API/sessions', '/api/sessions/%65xample/exchanges/1']) {
      const r = await rawGet(path)
      expect(r.status, path).not.toBe(200)
      expect(r.body, path).not.toContain(RECORDED_TOKEN)
      expect(r.body, path).not.toContain('"exchanges"')
    }
  })

  it('the UI itself is public: the page and its assets load, so it can say what is missing', async () => {
    const page = await peek('/')
    expect(page.status).toBe(200)
    expect(page.text).toContain('<title>reltape viewer</title>')
    expect((await peek('/assets/app.js')).status).toBe(200)
    // The page opened from the printed link, token in its query, is the same page.
    expect((await peek(`/?token=${viewer.token}`)).status).toBe(200)
  })
})

describe('with the token', () => {
  it('every API route answers, with the token as a Bearer header', async () => {
    for (const path of API_PATHS) expect((await peek(path, bearer(viewer.token as string))).status, path).toBe(200)
    const list = JSON.parse((await peek('/api/sessions', bearer(viewer.token as string))).text) as { name: string }[]
    expect(list.map((s) => s.name)).toContain('example')
  })

  it('the event streams open with the token in their query (EventSource cannot send a header) or as a header', async () => {
    const token = encodeURIComponent(viewer.token as string)
    const list = await peek(`/api/events?token=${token}`)
    expect(list.status).toBe(200)
    expect(list.type).toMatch(/^text\/event-stream/)
    expect(list.text).toContain('event: sessions')
    const rows = await peek(`/api/sessions/example/events?afterSeq=10&token=${token}`)
    expect(rows.status).toBe(200)
    expect(rows.text).toMatch(/event: exchange\ndata: \{"seq":11/)
    expect((await peek('/api/events', bearer(viewer.token as string))).type).toMatch(/^text\/event-stream/)
    // Raw bodies, which the browser fetches by itself too (downloads, image previews).
    const png = await fetch(at(`/api/sessions/example/exchanges/4/raw/response?inline=1&token=${token}`))
    expect(png.status).toBe(200)
    expect(png.headers.get('content-type')).toBe('image/png')
  })

  it('keeps the other defences: the Host check comes first, raw bodies keep their sandbox', async () => {
    const url = at('/')
    const refused = await new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: url.hostname, port: url.port, path: '/api/sessions', headers: { host: 'evil.example', ...bearer(viewer.token as string) } }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.on('error', reject)
      req.end()
    })
    expect(refused).toBe(ERRORS.HOST_NOT_ALLOWED.status)
    const raw = await peek('/api/sessions/example/exchanges/6/raw/response', bearer(viewer.token as string))
    expect(raw.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'")
    expect(raw.headers.get('content-disposition')).toMatch(/^attachment;/)
    const api = await peek('/api/sessions', bearer(viewer.token as string))
    expect(api.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(api.headers.get('referrer-policy')).toBe('no-referrer')
  })
})

describe('auth: false', () => {
  it('serves the API without a token, as before, and its link has none', async () => {
    const open = await startViewer({ dir: join(root, 'sessions'), port: 0, config: {}, auth: false })
    cleanup.push(() => open.close())
    expect(open.token).toBeNull()
    expect(open.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    const res = await fetch(new URL('/api/sessions', open.url))
    expect(res.status).toBe(200)
  })

  it('a token given by the embedder must be at least 128 bits of base64url', async () => {
    await expect(buildViewerApp({ dir: join(root, 'sessions'), config: {}, token: 'short' })).rejects.toMatchObject({ code: 'OPTION_INVALID', message: expect.stringContaining('token') })
    const app = await buildViewerApp({ dir: join(root, 'sessions'), config: {}, token: 'a'.repeat(22) })
    cleanup.push(() => app.close())
    expect((await app.inject({ url: '/api/config', headers: bearer('a'.repeat(22)) })).statusCode).toBe(200)
    expect((await app.inject({ url: '/api/config' })).statusCode).toBe(401)
  })
})

/** A CLI command from source, its output gathered, stopped by the test. */
function spawnCli(args: string[], env: NodeJS.ProcessEnv = {}): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin/reltape.ts'), ...args], { cwd: repoRoot, env: { ...process.env, RELTAPE_DEBUG: '', ...env } })
  let out = ''
  let err = ''
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()))
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await exit
  })
  return { child, stdout: () => out, stderr: () => err, exit }
}

/** Polls (bounded) until `pattern` shows in `text()`. */
async function waitFor(text: () => string, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = pattern.exec(text())
    if (m) return m
    if (Date.now() > deadline) throw new Error(`${pattern} not printed within ${timeoutMs} ms:\n${text()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

describe('the CLI', () => {
  it('`reltape view --no-auth` warns that anyone who reaches the port reads the sessions, and prints a link without a token', async () => {
    const view = spawnCli(['view', '--port', '0', '--no-auth', '--dir', join(root, 'sessions')])
    const [, url] = await waitFor(view.stdout, /reltape view: (http:\/\/\S+)/, 60_000)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
    await waitFor(view.stderr, /warning: --no-auth/, 5_000)
    expect(view.stderr()).toContain('any local user included')
    expect((await fetch(new URL('/api/sessions', url))).status).toBe(200)
    view.child.kill('SIGTERM')
    expect(await view.exit).toBe(0)
  }, 90_000)

  it('`reltape demo` prints the link to its session with the token, and that link opens the API', async () => {
    const home = await tempDir('token-demo-home')
    const dir = await tempDir('token-demo-dir')
    cleanup.push(() => rm(home, { recursive: true, force: true }), () => rm(dir, { recursive: true, force: true }))
    const demo = spawnCli(['demo', '--port', '0', '--session', 'token-demo'], { RELTAPE_HOME: home, RELTAPE_DIR: dir })
    const [, link] = await waitFor(demo.stdout, /Inspect it: +(http:\/\/\S+)/, 90_000)
    const url = new URL(link as string)
    expect(url.hash).toBe('#/sessions/token-demo')
    const token = url.searchParams.get('token')
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await fetch(new URL('/api/sessions/token-demo', url))).status).toBe(401)
    const res = await fetch(new URL('/api/sessions/token-demo', url), { headers: bearer(token as string) })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { summary: { exchanges: number } }).summary.exchanges).toBeGreaterThanOrEqual(10)
    demo.child.kill('SIGTERM')
    expect(await demo.exit).toBe(0)
  }, 150_000)
})
