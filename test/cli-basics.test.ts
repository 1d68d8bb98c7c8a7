/** The CLI as a user meets it: help, version, listing sessions, and exit codes that scripts can rely on. */
import { execFileSync } from 'node:child_process'
import { copyFileSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SessionStore } from '../store/store.js'
import { runCli } from './helpers/cli.js'
import { makeExchange, tempDir } from './helpers/exchange-factory.js'

const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')) as { version: string }

describe('the reltape CLI', () => {
  it('prints its version and a help that lists every command', () => {
    expect(runCli(['--version']).stdout.trim()).toBe(pkg.version)
    const help = runCli(['--help'])
    expect(help.code).toBe(0)
    for (const c of ['demo', 'record', 'view', 'replay', 'sessions', 'sandbox', 'ca']) expect(help.stdout).toMatch(new RegExp(`^  ${c} `, 'm'))
    const sub = runCli(['sessions', '--help'])
    expect(sub.code).toBe(0)
    expect(sub.stdout).toContain('--json')
  })

  it('runs as `npx reltape` runs it on a fresh clone: the built bin is executed itself, through its #! line', () => {
    // npm links no bin for the project itself, so npx executes the file: it must carry the executable bit.
    const bin = join(import.meta.dirname, '..', 'dist', 'bin', 'reltape.js')
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim()).toBe(pkg.version)
  })

  it('answers a usage error with one line and exit code 2', () => {
    for (const args of [['frobnicate'], ['sessions', '--bogus'], ['sessions', 'extra-arg']]) {
      const r = runCli(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
  })

  it('answers a runtime error with a clear message, no stack trace, and exit code 1', async () => {
    const dir = await tempDir()
    writeFileSyncSafe(join(dir, 'x.json'))
    const r = runCli(['sessions', '--dir', join(dir, 'x.json')])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^reltape: /)
    expect(r.stderr).not.toMatch(/\n\s+at /)
    const debug = runCli(['sessions', '--dir', join(dir, 'x.json')], { RELTAPE_DEBUG: '1' })
    expect(debug.stderr).toMatch(/\n\s+at /)
  })

  it('lists sessions as JSON with counts that include exchanges still in a journal', async () => {
    const dir = await tempDir()
    copyFileSync(join(import.meta.dirname, 'fixtures/sessions/example.json'), join(dir, 'example.json'))
    copyFileSync(join(import.meta.dirname, 'fixtures/sessions/broken-truncated.json'), join(dir, 'broken.json'))
    const w = await new SessionStore(dir).open('live', { recording: { tool: 'test', mode: 'forward', upstream: null } })
    w.append(makeExchange(w.nextSeq()))
    w.append(makeExchange(w.nextSeq()))
    await new Promise((r) => setImmediate(r)) // the turn ends: the journal is written (runCli blocks this process)
    const r = runCli(['sessions', '--json'], { RELTAPE_DIR: dir })
    expect(r.code).toBe(0)
    const list = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(list.map((s) => s.name)).toEqual(['broken', 'example', 'live'])
    const example = list.find((s) => s.name === 'example')!
    expect(Object.keys(example).sort()).toEqual(['createdAt', 'errors', 'exchanges', 'file', 'identities', 'name', 'updatedAt'])
    // Two sends by identity-1 and one transport failure: the failure counts as an error.
    expect(example).toMatchObject({ exchanges: 3, errors: 1, identities: 1, file: join(dir, 'example.json') })
    expect(list.find((s) => s.name === 'live')).toMatchObject({ exchanges: 2 })
    expect(String(list.find((s) => s.name === 'broken')!.invalid)).toMatch(/broken\.json: line/)
    const table = runCli(['sessions', '--dir', dir])
    expect(table.stdout).toMatch(/^example\s+3\s+1\s+1\s/m)
    expect(table.stdout).toMatch(/^broken .*INVALID/m)
    await w.close()
  })
})

function writeFileSyncSafe(file: string) {
  // A regular file where a directory is expected: readdir fails with ENOTDIR.
  copyFileSync(join(import.meta.dirname, 'fixtures/sessions/example.json'), file)
}
