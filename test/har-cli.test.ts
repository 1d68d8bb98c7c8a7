/**
 * `reltape import` and `reltape export` as a user runs them: counts on screen or as JSON, a HAR from standard input,
 * an invalid HAR that exits 1 naming the file and the JSON path and writes nothing, a HAR on standard output.
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runCli } from './helpers/cli.js'
import { tempDir } from './helpers/exchange-factory.js'

const FIXTURES = join(import.meta.dirname, 'fixtures/har')
let dir: string

beforeAll(async () => {
  dir = await tempDir('reltape-har-cli-')
})

afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

describe('reltape import', () => {
  it('prints the session and its counts, or them as JSON with --json', () => {
    const text = runCli(['import', join(FIXTURES, 'chrome-devtools.har'), '--dir', join(dir, 'a')])
    expect(text.code).toBe(0)
    expect(text.stdout).toContain('as session "chrome-devtools"')
    expect(text.stdout).toContain('entries read: 6, exchanges written: 5, left out by the filter: 1, warnings: 1')
    expect(text.stdout).toMatch(/warning: log\.entries\[4\]\.response\.content: no content/)

    const json = runCli(['import', join(FIXTURES, 'chrome-devtools.har'), '--dir', join(dir, 'a'), '--session', 'again', '--all', '--json'])
    expect(json.code).toBe(0)
    const out = JSON.parse(json.stdout)
    expect(Object.keys(out)).toEqual(['session', 'entries', 'exchanges', 'leftOut', 'warnings'])
    expect(out).toMatchObject({ session: 'again', entries: 6, exchanges: 6, leftOut: 0 })
    expect(out.warnings).toHaveLength(1)
  })

  it('reads a HAR from standard input', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin/reltape.ts'), 'import', '-', '--session', 'piped', '--dir', join(dir, 'b'), '--json'], {
      cwd: repoRoot,
      encoding: 'utf8',
      input: readFileSync(join(FIXTURES, 'firefox.har')),
      env: { ...process.env, RELTAPE_DEBUG: '' },
    })
    expect(r.stderr).toBe('')
    expect(r.status).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ session: 'piped', entries: 5, exchanges: 4, leftOut: 1 })
  })

  it('exits 1 on an invalid HAR, naming the file and the JSON path, and writes no session', () => {
    const file = join(FIXTURES, 'invalid-missing-url.har')
    const r = runCli(['import', file, '--dir', join(dir, 'c')])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`reltape: ${file}: log.entries[3].request.url: missing [HAR_INVALID]`)
    expect(readdirSync(join(dir, 'c'))).toEqual([])
  })

  it('refuses an existing session (exit 1) and a missing FILE (exit 2)', () => {
    runCli(['import', join(FIXTURES, 'fiddler.har'), '--dir', join(dir, 'd')])
    const again = runCli(['import', join(FIXTURES, 'fiddler.har'), '--dir', join(dir, 'd')])
    expect(again.code).toBe(1)
    expect(again.stderr).toContain('[SESSION_EXISTS]')
    expect(runCli(['import']).code).toBe(2)
  })
})

describe('reltape export', () => {
  it('writes a .har and a Playwright .zip that import reads back, and a HAR to standard output', () => {
    const har = join(dir, 'out.har')
    const zip = join(dir, 'out.zip')
    const h = runCli(['export', 'sample-support-chat', '--out', har])
    expect(h.code).toBe(0)
    expect(h.stdout).toContain('exported 10 exchange(s) of session "sample-support-chat"')
    expect(JSON.parse(readFileSync(har, 'utf8')).log.entries).toHaveLength(10)
    const z = runCli(['export', 'sample-support-chat', '--out', zip])
    expect(z.code).toBe(0)
    expect(z.stdout).toMatch(/har\.har and \d+ body file\(s\)/)
    const back = runCli(['import', zip, '--dir', join(dir, 'e'), '--json'])
    expect(JSON.parse(back.stdout)).toMatchObject({ session: 'out', entries: 10, exchanges: 10, leftOut: 0, warnings: [] })

    const piped = runCli(['export', 'sample-support-chat', '--out', '-', '--redact'])
    expect(piped.code).toBe(0)
    expect(piped.stderr).toContain('to standard output')
    const log = JSON.parse(piped.stdout).log
    expect(log.entries).toHaveLength(10)
    expect(piped.stdout).toContain('client-session=<identity-1>')
  })

  it('says which sessions exist when the session is not there', () => {
    const r = runCli(['export', 'no-such-session'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('[SESSION_NOT_FOUND]')
  })
})
