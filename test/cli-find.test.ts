/** `reltape find`: a tester asks where an entity, an Id, an error code or a phrase appears in the recorded sessions. */
import { execFileSync } from 'node:child_process'
import { copyFile, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { repoRoot, runCli } from './helpers/cli.js'
import { tempDir } from './helpers/exchange-factory.js'
import { matchJsonWriter } from '../store/find.js'

type Match = { session: string; seq: number; where: string; entity?: string }

describe('reltape find', () => {
  let dir: string
  const find = (...args: string[]) => runCli(['find', ...args, '--dir', dir])
  const json = (...args: string[]) => {
    const r = find(...args, '--json')
    return { code: r.code, matches: JSON.parse(r.stdout) as Match[], stderr: r.stderr }
  }

  beforeAll(async () => {
    dir = await tempDir('reltape-find-')
    await copyFile(join(repoRoot, 'sessions/sample-support-chat.json'), join(dir, 'chat.json'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lists the calls that carry Clients#11 and those that reference it, exactly', () => {
    const { code, matches } = json('Clients#11')
    expect(code).toBe(0)
    expect(matches).toContainEqual({ session: 'chat', seq: 1, where: 'Rels.Clients[0]', entity: 'Clients#11' })
    expect(matches).toContainEqual({ session: 'chat', seq: 5, where: 'Result', entity: 'Clients#11' }) // clients/get
    expect(matches).toContainEqual({ session: 'chat', seq: 1, where: 'Rels.Users[0].ClientId', entity: 'Users#1' })
    expect(matches).toContainEqual({ session: 'chat', seq: 2, where: 'Result[0].ClientId', entity: 'Messages#252' })
    expect(matches.every((m) => m.entity !== 'Users#11' && m.entity !== 'Clients#110')).toBe(true)
    const seqs = matches.map((m) => m.seq)
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  })

  it('finds nothing for Clients#110 or Users#11 and exits 1', () => {
    // `constructor` and `toString` are names every JavaScript object has: a search must not take them for codes.
    for (const q of ['Clients#110', 'Users#11', 'Clients#1', 'constructor', 'toString', '__proto__']) {
      const { code, matches } = json(q)
      expect({ q, code, matches }).toEqual({ q, code: 1, matches: [] })
    }
    const plain = find('Clients#110')
    expect(plain.code).toBe(1)
    expect(plain.stdout).toContain('0 match(es)')
  })

  it("finds an envelope's Error.Code", () => {
    expect(json('TicketClosed').matches).toEqual([{ session: 'chat', seq: 6, where: 'Error.Code' }])
  })

  it('finds a phrase inside request and response bodies, naming the entity it sits in', () => {
    const { code, matches } = json('order has NOT arrived')
    expect(code).toBe(0)
    expect(matches).toContainEqual({ session: 'chat', seq: 2, where: 'request.body.Text' })
    expect(matches).toContainEqual({ session: 'chat', seq: 2, where: 'Result[0].Text', entity: 'Messages#252' })
  })

  it('prints one line per match without --json', () => {
    const r = find('TicketClosed')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/^chat#6\s+Error\.Code$/m)
  })

  it('keeps its index beside the session, ignored by git, and rebuilds it when the session changes', async () => {
    const index = join(dir, '.chat.entities')
    expect(json('Clients#11').code).toBe(0)
    expect((await stat(index)).mode & 0o777).toBe(0o600)
    expect(execFileSync('git', ['check-ignore', '--no-index', 'sessions/.chat.entities'], { cwd: repoRoot, encoding: 'utf8' }).trim()).toBe('sessions/.chat.entities')
    const text = await readFile(join(dir, 'chat.json'), 'utf8')
    expect(json('Clients#99').code).toBe(1)
    // Another program rewrites the session: the customer is now #99.
    await writeFile(join(dir, 'chat.json'), text.replaceAll('{"Id":11,"ProjectId"', '{"Id":99,"ProjectId"'), { mode: 0o600 })
    const { code, matches } = json('Clients#99')
    expect(code).toBe(0)
    expect(matches).toContainEqual({ session: 'chat', seq: 1, where: 'Rels.Clients[0]', entity: 'Clients#99' })
    expect(await readFile(index, 'utf8')).not.toContain('Account manager') // hashes and labels, not the bodies' values
    await writeFile(join(dir, 'chat.json'), text, { mode: 0o600 })
  })

  it('answers the same from its index on disk as when it builds it, for an entity, an Id and a code', async () => {
    const index = join(dir, '.chat.entities')
    for (const q of ['Clients#11', '11', 'TicketClosed']) {
      await rm(index, { force: true })
      const built = json(q)
      const header = JSON.parse((await readFile(index, 'utf8')).split('\n')[0]!) as { keys: string[] }
      expect(header.keys).toContain('Clients#11')
      const fromDisk = json(q)
      expect({ q, code: fromDisk.code, matches: fromDisk.matches }).toEqual({ q, code: 0, matches: built.matches })
    }
    // An Id finds every entity with it: all that Clients#11 finds is there.
    const byId = json('11').matches
    for (const m of json('Clients#11').matches) expect(byId).toContainEqual(m)
  })

  it('exits 2 on a usage error', () => {
    expect(runCli(['find', '--dir', dir]).code).toBe(2)
    expect(find('x', '--nope').code).toBe(2)
    expect(find('  ').code).toBe(2)
  })

  it('says which session is missing with --session', () => {
    const r = find('Clients#11', '--session', 'nope')
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('SESSION_NOT_FOUND')
  })
})

describe("find's JSON text", () => {
  it('is JSON.stringify of each match, for odd names and paths too', () => {
    const json = matchJsonWriter()
    const matches: Match[] = [
      { session: 'chat', seq: 1, where: 'Rels.Clients[0]', entity: 'Clients#11' },
      { session: 'chat', seq: 2, where: 'Rels.Clients[0]', entity: 'Clients#11' },
      { session: 'chat', seq: 2, where: 'Rels.Clients[0]' },
      { session: 'чат "2"', seq: 3, where: 'Rels["odd \\"key\\""][0].Name', entity: 'Files#a\nb' },
      { session: 'chat', seq: 4, where: 'Error.Code' },
    ]
    for (const m of matches) expect(json(m)).toBe(JSON.stringify(m))
  })
})
