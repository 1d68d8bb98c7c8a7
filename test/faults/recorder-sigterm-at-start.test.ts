/**
 * A script starts `reltape record` and stops it with SIGTERM as soon as it says anything: the recorder always exits 0
 * with its session written and its lock released, never killed by the signal (ten tries in a row). Runs the built
 * CLI (dist/), as users do.
 */
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { repoRoot } from '../helpers/cli.js'
import { tempDir } from '../helpers/recorder-env.js'

const TRIES = 10
const dirs: string[] = []
afterAll(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

type Outcome = { code: number | null; signal: NodeJS.Signals | null; output: string }

/** Starts the recorder and sends SIGTERM on its first byte of output (stdout or stderr). */
function startAndTerminate(dir: string, home: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'dist/bin/reltape.js'), 'record', '--port', '0', '--session', 'early', '--dir', dir], {
      env: { ...process.env, RELTAPE_HOME: home, RELTAPE_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    let sent = false
    const onData = (d: Buffer) => {
      output += d.toString()
      if (!sent) {
        sent = true
        child.kill('SIGTERM')
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`reltape record did not exit in time:\n${output}`))
    }, 30_000)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, output })
    })
  })
}

describe('SIGTERM right after `reltape record` starts', () => {
  it(`always ends in a clean stop: exit 0, session written, lock gone (${TRIES} tries)`, async () => {
    expect(existsSync(join(repoRoot, 'dist/bin/reltape.js')), 'build first: npx tsc -p tsconfig.build.json').toBe(true)
    const home = await tempDir('sigterm-home')
    dirs.push(home)
    const failures: string[] = []
    for (let i = 1; i <= TRIES; i++) {
      const dir = await tempDir('sigterm-dir')
      dirs.push(dir)
      const r = await startAndTerminate(dir, home)
      const session = join(dir, 'early.json')
      const problems = [
        r.signal ? `killed by ${r.signal}` : r.code !== 0 ? `exit ${r.code}` : '',
        existsSync(session) && (JSON.parse(readFileSync(session, 'utf8')) as { exchanges?: unknown[] }).exchanges?.length === 0 ? '' : 'no session written',
        existsSync(join(dir, 'early.lock')) ? 'lock left behind' : '',
        existsSync(join(dir, 'early.journal')) ? 'journal left behind' : '',
      ].filter(Boolean)
      if (problems.length) failures.push(`try ${i}: ${problems.join(', ')}\n${r.output}`)
    }
    expect(failures).toEqual([])
  }, 120_000)
})
