/**
 * Crashes and collisions around a session's files: a second recorder, a corrupt file, a journal a crash left
 * (with a torn last line), a process killed while appending, and one killed in the middle of its stop. Nothing
 * the writer had journaled is lost, and nothing corrupt is overwritten.
 */
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { SessionFormatError } from '../../model/session.js'
import { SessionLockedError } from '../../store/lock.js'
import { readSessionFiles, SessionStore } from '../../store/store.js'
import { makeExchange, tempDir } from '../helpers/exchange-factory.js'

const recording = { tool: 'test', mode: 'forward' as const, upstream: null }
const repo = join(import.meta.dirname, '../..')

let dir: string
let store: SessionStore
const warnings: string[] = []
const warn = (m: string) => warnings.push(m)

beforeEach(async () => {
  dir = await tempDir()
  store = new SessionStore(dir)
  warnings.length = 0
})

/** Runs the stop child and SIGKILLs it `delayMs` after it says it is closing; resolves with what it had journaled. */
async function killDuringStop(name: string, count: number, delayMs: number): Promise<{ journaled: number; finished: boolean }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/store-close-child.ts', dir, name, String(count)], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] })
  let journaled = 0
  let finished = false
  const lines = createInterface({ input: child.stdout! })
  lines.on('line', (line) => {
    const m = /^closing (\d+)$/.exec(line)
    if (m) {
      journaled = Number(m[1])
      setTimeout(() => child.kill('SIGKILL'), delayMs)
    }
    if (line === 'closed') finished = true
  })
  await new Promise((r) => child.once('exit', r))
  return { journaled, finished }
}

describe('crashes and collisions', () => {
  it('stops a second writer with a message naming the process holding the lock', async () => {
    const w = await store.open('locked', { recording, warn })
    await expect(store.open('locked', { recording, warn })).rejects.toThrow(SessionLockedError)
    await expect(store.open('locked', { recording, warn })).rejects.toThrow(new RegExp(`pid ${process.pid}`))
    await w.close()
    const again = await store.open('locked', { recording, warn })
    await again.close()
  })


  it('never overwrites a corrupt session file: the error names it and it stays byte-for-byte the same', async () => {
    const file = join(dir, 'broken.json')
    copyFileSync(join(import.meta.dirname, '../fixtures/sessions/broken-truncated.json'), file)
    const before = readFileSync(file)
    await expect(store.open('broken', { recording, warn })).rejects.toThrow(SessionFormatError)
    await expect(store.open('broken', { recording, warn })).rejects.toThrow(/broken\.json: line \d+, column \d+/)
    await expect(store.read('broken')).rejects.toThrow(/broken\.json/)
    expect(readFileSync(file).equals(before)).toBe(true)
    expect(existsSync(join(dir, 'broken.lock'))).toBe(false)
    const [summary] = await store.list()
    expect(summary!.invalid).toMatch(/broken\.json/)
  })


  it('merges a journal left by a crash when the session is opened again', async () => {
    const w = await store.open('crashed', { recording, warn })
    for (let i = 0; i < 5; i++) w.append(makeExchange(w.nextSeq()))
    w.flush()
    // Simulate a crash: the lock and journal stay, nothing is closed. A torn last line, as a kill mid-write leaves.
    appendFileSync(join(dir, 'crashed.journal'), '{"t":"exchange","exchange":{"seq":6,')
    writeFileSync(join(dir, 'crashed.lock'), JSON.stringify({ pid: 2 ** 22 + 999, host: (await import('node:os')).hostname(), since: 'x', purpose: 'x' }))
    const reopened = await store.open('crashed', { recording, warn })
    expect((await reopened.read()).exchanges.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    expect(reopened.nextSeq()).toBe(6)
    expect(warnings.join('\n')).toMatch(/cut short by a crash/)
    await reopened.close()
    const onDisk = JSON.parse(readFileSync(join(dir, 'crashed.json'), 'utf8'))
    expect(onDisk.exchanges).toHaveLength(5)
  })


  it('loses none of the exchanges a process had appended when it is killed with SIGKILL', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/store-append-child.ts', dir, 'killed', '100000'], { cwd: repo, stdio: ['ignore', 'pipe', 'inherit'] })
    let lastAppended = 0
    const lines = createInterface({ input: child.stdout! })
    await new Promise<void>((resolve) => {
      lines.on('line', (line) => {
        const m = /^appended (\d+)$/.exec(line)
        if (m) lastAppended = Number(m[1])
        if (lastAppended >= 2000) {
          child.kill('SIGKILL')
          resolve()
        }
      })
    })
    await new Promise((r) => child.once('exit', r))
    const s = await readSessionFiles(store.paths('killed'))
    const seqs = new Set(s.exchanges.map((e) => e.seq))
    for (let seq = 1; seq <= lastAppended; seq++) expect(seqs.has(seq)).toBe(true)
    // The next writer takes the dead process's lock over and folds the journal in.
    const w = await store.open('killed', { recording, warn })
    expect((await w.read()).exchanges.length).toBeGreaterThanOrEqual(lastAppended)
    await w.close()
  })

  it('loses nothing when the recorder is killed in the middle of its stop, wherever the kill lands', async () => {
    let cutShort = 0
    for (const [i, delayMs] of [0, 2, 5, 10, 20, 40].entries()) {
      const name = `stop-${i}`
      const { journaled, finished } = await killDuringStop(name, 3000, delayMs)
      expect(journaled).toBe(3000)
      if (!finished) cutShort++
      // The next opener folds whatever the stop did not finish; the file is one JSON document again.
      const session = await store.read(name)
      expect(session.exchanges.map((e) => e.seq)).toEqual(Array.from({ length: 3000 }, (_, k) => k + 1))
      const onDisk = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as { exchanges: unknown[] }
      expect(onDisk.exchanges).toHaveLength(3000)
      expect(existsSync(join(dir, `${name}.journal`))).toBe(false)
    }
    // At least one kill must have landed inside a stop, or this test proved nothing.
    expect(cutShort).toBeGreaterThan(0)
  }, 120_000)
})
