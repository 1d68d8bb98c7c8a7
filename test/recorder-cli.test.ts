/**
 * `reltape record` as a user runs it: the start banner, one line per exchange, a second recorder on the same
 * session refused, SIGTERM writing the session and a summary, and clear errors for bad flags and a taken port.
 */
import { existsSync } from 'node:fs'
import { readFile, rm, stat } from 'node:fs/promises'
import { createServer, type AddressInfo } from 'node:net'
import { ProxyAgent, request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { spawnRecorder, type RecorderProcess } from './helpers/recorder-cli.js'
import { startHttpUpstream, tempDir, until, type Upstream } from './helpers/recorder-env.js'

const dirs: string[] = []
let rec: RecorderProcess | undefined
let up: Upstream | undefined
afterAll(async () => {
  if (rec && rec.child.exitCode === null && rec.child.signalCode === null) rec.child.kill('SIGKILL')
  await up?.close()
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

describe('reltape record', () => {
  it('prints what it records and, on SIGTERM, writes the session and a summary', async () => {
    const home = await tempDir('cli-home')
    const dir = await tempDir('cli-dir')
    dirs.push(home, dir)
    up = await startHttpUpstream((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"OK":true,"Error":null,"Result":1}'))
    rec = await spawnRecorder(['--port', '0', '--session', 'cli', '--dir', dir], { RELTAPE_HOME: home })
    const banner = rec.output()
    expect(banner).toContain(`${dir}/cli.json`)
    expect(banner).toContain(`${home}/ca.pem`)
    expect(banner).toMatch(/SPKI: +[A-Za-z0-9+/]{43}=/)
    expect(banner).toMatch(/filter: +API traffic/)
    expect(banner).toMatch(/try: +curl .*--proxy http:\/\/127\.0\.0\.1:\d+ --cacert /)

    const agent = new ProxyAgent({ uri: rec.url })
    const token = 'f00dfeedf00dfeedf00dfeed.0123'
    const res = await request(`${up.url}/public/api/v1/chats/history`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', Cookie: `client-session=${token}` }, body: '{}' })
    await res.body.text()
    await agent.close()
    await until(() => /#1 POST \/public\/api\/v1\/chats\/history {2}OK {2}identity-1 {2}\d+ms {2}\d+ B/.test(rec!.output()), 'the exchange line')
    expect(rec.output()).not.toContain(token)

    // A second recorder on the same session is told who holds it, and exits 1.
    const second = runCli(['record', '--port', '0', '--session', 'cli', '--dir', dir], { RELTAPE_HOME: home })
    expect(second.code).toBe(1)
    expect(second.stderr).toMatch(/session is being written by another process \(pid \d+/)

    rec.child.kill('SIGTERM')
    expect(await rec.exited).toBe(0)
    expect(rec.output()).toMatch(/stopped \(SIGTERM\): 1 exchanges recorded/)
    expect(rec.output()).toContain('reltape replay cli')
    const file = `${dir}/cli.json`
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(file, 'utf8')).exchanges).toHaveLength(1)
    expect(existsSync(`${dir}/cli.lock`)).toBe(false)
    expect(existsSync(`${dir}/cli.journal`)).toBe(false)
  }, 90_000)

  it('refuses bad flags with a usage error, and names a port in use', async () => {
    const home = await tempDir('cli-home2')
    const dir = await tempDir('cli-dir2')
    dirs.push(home, dir)
    const bad = runCli(['record', '--max-body', 'lots', '--dir', dir], { RELTAPE_HOME: home })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--max-body takes a size such as 50MB')
    const stray = runCli(['record', 'http://x', '--dir', dir], { RELTAPE_HOME: home })
    expect(stray.code).toBe(2)

    const blocker = createServer()
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r))
    const port = (blocker.address() as AddressInfo).port
    try {
      const taken = runCli(['record', '--port', String(port), '--session', 'p', '--dir', dir], { RELTAPE_HOME: home })
      expect(taken.code).toBe(1)
      expect(taken.stderr).toContain(`127.0.0.1:${port} is already in use`)
    } finally {
      await new Promise((r) => blocker.close(r))
    }
  }, 90_000)
})
