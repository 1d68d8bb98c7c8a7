/**
 * HAR files in a sessions directory, viewed read-only: each is imported once (as `reltape import` would, API traffic
 * only) into a private directory of this process, keyed by the HAR's size, mtime and inode, and read there as any
 * session is. The HAR itself, and the sessions directory, are never written.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { importHar } from './har-import.js'
import { removeLeftovers } from './lock.js'
import { sessionPaths, type SessionPaths } from './paths.js'

/** True for a name the viewer lists as a HAR: a `.har` file in the sessions directory. */
export function isHarName(name: string): boolean {
  return /\.har$/i.test(name) && !name.startsWith('.')
}

/** The `.har` files of a directory, by name. */
export function harNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter(isHarName).sort()
  } catch {
    return []
  }
}

const VIEW_PREFIX = 'reltape-har-view-'

/** Removes the imported copies of processes that are gone (a viewer or replay killed before it could clean up). */
function removeDeadViews(): void {
  const ours = new RegExp(`^${VIEW_PREFIX}(\\d+)-`)
  removeLeftovers(tmpdir(), (entry) => {
    const m = ours.exec(entry)
    return m ? Number(m[1]) : undefined
  })
}

/**
 * HAR files of a directory read as sessions: each imported once into a private directory of this process, read
 * there through the SessionReader like any session (so a HAR of any size is never held in memory), removed on close.
 */
export class HarViews {
  #root: string | null = null
  #next = 0
  readonly #imported = new Map<string, Promise<SessionPaths>>()

  constructor(readonly dir: string) {}

  /** The session a HAR of the directory reads as, imported on first use and again when the HAR changes. */
  paths(name: string): Promise<SessionPaths> {
    const file = join(this.dir, name)
    const s = statSync(file)
    const key = `${name}\n${s.size}\n${s.mtimeMs}\n${s.ino}`
    let done = this.#imported.get(key)
    if (!done) {
      done = this.#import(file)
      this.#imported.set(key, done)
      // A failed import is tried again next time (the HAR may still be being written).
      done.catch(() => this.#imported.delete(key))
    }
    return done
  }

  async #import(file: string): Promise<SessionPaths> {
    if (this.#root === null) {
      removeDeadViews()
      // Private to this process (mkdtemp makes it 0700): a HAR holds live tokens as the sessions do. Named by the
      // pid, so that what a killed process left is removed by the next one (removeDeadViews).
      this.#root = mkdtempSync(join(tmpdir(), `${VIEW_PREFIX}${process.pid}-`))
    }
    const dir = join(this.#root, String(this.#next++))
    await importHar(file, { dir, session: 'har' })
    return sessionPaths(dir, 'har')
  }

  /** Removes the imported copies. */
  close(): void {
    if (this.#root) rmSync(this.#root, { recursive: true, force: true })
    this.#root = null
    this.#imported.clear()
  }
}
