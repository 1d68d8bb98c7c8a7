/**
 * A tester records onto a disk that fills up: the recorder says so once with a registry code, keeps answering as a
 * proxy, says on every later screen line that the exchange was not recorded, never prints an exchange as recorded
 * that is not on disk, and on SIGTERM exits by itself (no stack trace) with its lock released. Once there is room
 * again, the next opener finds every exchange that was printed as recorded.
 *
 * Needs a small tmpfs: mounted here (as root) over a temp dir, unmounted after; skipped with the reason otherwise.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ProxyAgent, request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { SessionStore } from '../../store/store.js'
import { spawnRecorder, type RecorderProcess } from '../helpers/recorder-cli.js'
import { withBody, startHttpUpstream, tempDir, type Upstream } from '../helpers/recorder-env.js'

/** Mounts a tmpfs of `size` on a new temp dir; the reason it could not, otherwise. */
function mountTmpfs(size: string): { dir: string; reason: null } | { dir: null; reason: string } {
  const dir = mkdtempSync(join(tmpdir(), 'reltape-full-'))
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe', timeout: 10_000 })
    return { dir, reason: null }
  } catch (e) {
    rmSync(dir, { recursive: true, force: true })
    const why = ((e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message).split('\n')[0]
    return { dir: null, reason: `cannot mount a tmpfs here (needs root and mount rights): ${why}` }
  }
}

function unmount(dir: string): void {
  execFileSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 })
  rmSync(dir, { recursive: true, force: true })
}

/** Whether this machine lets the test mount a tmpfs: tried once, at once undone. */
const probe = mountTmpfs('64k')
if (probe.dir) unmount(probe.dir)
else console.warn(`recorder-disk-full: skipped: ${probe.reason}`)

let rec: RecorderProcess | undefined
let up: Upstream | undefined
let agent: ProxyAgent | undefined
let disk: string | null = null
const dirs: string[] = []

afterAll(async () => {
  if (rec && rec.child.exitCode === null && rec.child.signalCode === null) rec.child.kill('SIGKILL')
  await rec?.exited
  await agent?.close().catch(() => undefined)
  await up?.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
  if (disk) unmount(disk)
})

/** Every exchange line on screen for `/fill?n=N`: whether it claims to be recorded, and its seq when it does. */
function screenLines(output: string): { n: number; seq: number | null; line: string }[] {
  const out: { n: number; seq: number | null; line: string }[] = []
  for (const line of output.split('\n')) {
    const m = /\/public\/api\/v1\/fill\?n=(\d+)/.exec(line)
    if (!m) continue
    const seq = /^#(\d+) /.exec(line)
    out.push({ n: Number(m[1]), seq: seq && !/not recorded/i.test(line) ? Number(seq[1]) : null, line })
  }
  return out
}

describe('a disk that fills up while recording', () => {
  it.skipIf(probe.reason !== null)(
    `keeps proxying, marks every later line as not recorded, and loses nothing it printed as recorded${probe.reason ? ` (skipped: ${probe.reason})` : ''}`,
    async () => {
      const mounted = mountTmpfs('256k')
      if (mounted.dir === null) throw new Error(mounted.reason)
      const dir = (disk = mounted.dir)
      const home = await tempDir('full-home')
      dirs.push(home)
      const pad = 'x'.repeat(16 * 1024)
      up = await startHttpUpstream((req, res) => {
        withBody(req, () => {
          const n = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n'))
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ OK: true, Error: null, Result: { N: n, Pad: pad } }))
        })
      })
      rec = await spawnRecorder(['--port', '0', '--session', 'full', '--dir', dir], { RELTAPE_HOME: home })
      agent = new ProxyAgent({ uri: rec.url })
      const answered: number[] = []
      let after = -1
      for (let n = 1; n <= 100 && (after < 0 || n <= after + 5); n++) {
        const res = await request(`${up.url}/public/api/v1/fill?n=${n}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: '{}' })
        const body = (await res.body.json()) as { Result?: { N?: number; Pad?: string } }
        expect(res.statusCode).toBe(200)
        expect(body.Result?.N).toBe(n)
        expect(body.Result?.Pad).toBe(pad)
        answered.push(n)
        if (after < 0 && rec.output().includes('RECORDING_STOPPED')) after = n
      }
      expect(after, 'the recorder said recording stopped').toBeGreaterThan(0)
      const recorder = rec
      // Every answered exchange has its screen line by now (printed before the response was released).
      const output = recorder.output()
      const lines = screenLines(output)
      expect(lines.map((l) => l.n)).toEqual(answered)
      const firstUnrecorded = lines.findIndex((l) => l.seq === null)
      expect(firstUnrecorded).toBeGreaterThan(0)
      expect(lines.slice(firstUnrecorded).filter((l) => l.seq !== null)).toEqual([])
      // Said once, with its code; then on every line.
      expect(output.match(/\[RECORDING_STOPPED\]/g)).toHaveLength(1)

      recorder.child.kill('SIGTERM')
      const code = await recorder.exited
      const finalOutput = recorder.output()
      expect(recorder.child.signalCode).toBeNull()
      expect(code).toBe(1)
      expect(finalOutput).not.toMatch(/^\s+at /m)
      expect(existsSync(join(dir, 'full.lock'))).toBe(false)

      // Room again: the next opener completes the session from the journal.
      execFileSync('mount', ['-o', 'remount,size=16m', dir], { stdio: 'pipe', timeout: 10_000 })
      const writer = await new SessionStore(dir).open('full', { recording: { tool: 'test', mode: 'forward', upstream: null }, warn: () => {} })
      const { exchanges } = await writer.read()
      await writer.close()
      const printed = lines.filter((l) => l.seq !== null).map((l) => [l.seq, l.n])
      expect(exchanges.map((e) => [e.seq, Number(new URL(e.request.url).searchParams.get('n'))])).toEqual(printed)
    },
    90_000,
  )
})
