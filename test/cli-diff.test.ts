/** `reltape diff` as a tester uses it: yesterday's recording against today's, call by call, with diff(1)'s exit codes. */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/exchange-factory.js'

const sample = join(import.meta.dirname, '..', 'sessions', 'sample-support-chat.json')
let dir: string

type Diff = { equal: boolean; unchanged: number; calls: { key: string; a: number | null; b: number | null; changes: { path: string; kind: string; a?: unknown; b?: unknown }[] }[] }

beforeAll(async () => {
  dir = await tempDir('reltape-diff-')
  copyFileSync(sample, join(dir, 'before.json'))
  // Today the client was renamed, a ticket answers differently, and one more history call was made.
  const lines = readFileSync(sample, 'utf8').split('\n')
  const i1 = lines.findIndex((l) => l.startsWith('    {"seq":1,'))
  lines[i1] = lines[i1]!.replaceAll('"Name":"Ivan Petrov"', '"Name":"Ivan P."')
  const i4 = lines.findIndex((l) => l.startsWith('    {"seq":4,'))
  const extra = lines[i4]!.replace('"seq":4,', '"seq":11,').replace(/"id":"[^"]+"/, '"id":"extra-11"').replace(/,$/, '')
  const last = lines.findIndex((l) => l.startsWith('    {"seq":10,'))
  lines[last] = `${lines[last]},`
  lines.splice(last + 1, 0, `    ${extra.trimStart()}`)
  writeFileSync(join(dir, 'after.json'), lines.join('\n'))
})

describe('reltape diff', () => {
  it('finds nothing between a session and itself (exit 0)', () => {
    const r = runCli(['diff', 'before', 'before', '--dir', dir])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('10 call(s) unchanged, 0 changed, 0 only in A, 0 only in B')
  })

  it('names what drifted, by entity and call, and the call that is new (exit 1)', () => {
    const r = runCli(['diff', 'before', 'after', '--json', '--dir', dir])
    expect(r.code).toBe(1)
    const diff = JSON.parse(r.stdout) as Diff
    expect(diff.equal).toBe(false)
    expect(diff.unchanged).toBe(9)
    expect(diff.calls).toHaveLength(2)
    const renamed = diff.calls.find((c) => c.a === 1)!
    expect(renamed.key).toBe('POST /public/api/v1/chats/history #1')
    expect(renamed.changes).toEqual([{ path: 'Rels.Clients#11.Name', kind: 'changed', a: 'Ivan Petrov', b: 'Ivan P.' }])
    expect(diff.calls.find((c) => c.b === 11)).toEqual({ key: 'POST /public/api/v1/chats/history #3', a: null, b: 11, changes: [] })
    const human = runCli(['diff', 'before', 'after', '--dir', dir])
    expect(human.stdout).toMatch(/changed +Rels\.Clients#11\.Name: "Ivan Petrov" → "Ivan P\."/)
    expect(human.stdout).toContain('only in B: POST /public/api/v1/chats/history #3 (B #11)')
  })

  it('compares two single exchanges, and leaves out ignored fields', () => {
    expect(runCli(['diff', 'before#1', 'after#1', '--dir', dir]).code).toBe(1)
    const r = runCli(['diff', 'before#1', 'after#1', '--ignore-field', 'Rels.Clients.Name', '--json', '--dir', dir])
    expect(JSON.parse(r.stdout)).toMatchObject({ equal: true })
    expect(r.code).toBe(0)
  })

  it('refuses to compare a session with an exchange (exit 2)', () => {
    const r = runCli(['diff', 'before', 'after#5', '--dir', dir])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/not one of each/)
  })
})
