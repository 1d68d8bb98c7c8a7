/**
 * Shared setup for the viewer UI's browser tests: a UI bundle built from the current sources, fixture sessions
 * in a temp dir, the real viewer server on port 0, and headless Debian Chromium through playwright-core.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { chromium, type Browser, type Locator, type Page } from 'playwright-core'
import { expect } from 'vitest'
import { startViewer, type RunningViewer } from '../../viewer/server.js'

const ROOT = resolve(import.meta.dirname, '../..')
export const FIXTURE_SESSIONS = join(ROOT, 'test/fixtures/viewer/sessions')
export const OUTPUT_DIR = join(ROOT, 'test-output')

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

function sourceFiles(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) out.push(...sourceFiles(p))
    else out.push(p)
  }
  return out.sort()
}

/**
 * A UI bundle of the sources as they are now, built once per source state and shared by the test files:
 * tests never run against a stale `dist/ui`, and parallel files never write the same folder.
 */
export async function uiBundle(): Promise<string> {
  const hash = createHash('sha256')
  for (const f of [...sourceFiles(join(ROOT, 'viewer/ui')), ...sourceFiles(join(ROOT, 'model'))]) {
    hash.update(f).update(readFileSync(f)).update(String(statSync(f).size))
  }
  const dir = join(tmpdir(), `reltape-ui-${hash.digest('hex').slice(0, 16)}`)
  if (existsSync(join(dir, 'index.html'))) return dir
  await mkdir(tmpdir(), { recursive: true })
  const building = await mkdtemp(join(tmpdir(), 'reltape-ui-build-'))
  await promisify(execFile)(
    join(ROOT, 'node_modules/.bin/vite'),
    ['build', '--config', join(ROOT, 'viewer/ui/vite.config.ts'), '--outDir', building, '--emptyOutDir', '--logLevel', 'error'],
    // NODE_ENV is `test` under vitest, which makes Vite pick Lit's development build: test what users get.
    { cwd: ROOT, timeout: 120_000, env: { ...process.env, NODE_ENV: 'production' } },
  )
  try {
    await rename(building, dir)
  } catch {
    // Another test file finished the same build first: use theirs.
    await rm(building, { recursive: true, force: true })
  }
  return dir
}

/** A temp sessions dir holding copies of the committed fixture sessions. */
export async function fixtureDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'reltape-viewer-ui-'))
  await cp(FIXTURE_SESSIONS, dir, { recursive: true })
  return dir
}

export async function startFixtureViewer(dir: string, uiDir: string): Promise<RunningViewer> {
  return startViewer({ dir, port: 0, host: '127.0.0.1', uiDir, config: { rels: { AvatarId: 'Files' } } })
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 30_000 })
}

/** What a browser test file works with: fixture sessions in a temp dir, the real viewer serving them, one browser. */
export type BrowserFixture = { dir: string; viewer: RunningViewer; browser: Browser; close(): Promise<void> }

/**
 * Copies the fixture sessions to a temp dir, lets `prepare` add a file's own sessions there, then starts the viewer
 * on port 0 and a browser. `close()` stops both and removes the dir.
 */
export async function openBrowserFixture(prepare: (dir: string) => Promise<void> = async () => {}): Promise<BrowserFixture> {
  const ui = await uiBundle()
  const dir = await fixtureDir()
  let viewer: RunningViewer | null = null
  try {
    await prepare(dir)
    viewer = await startFixtureViewer(dir, ui)
    const browser = await launchBrowser()
    const running = viewer
    return {
      dir,
      viewer: running,
      browser,
      async close() {
        await browser.close()
        await running.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (e) {
    await viewer?.close()
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

/** A page that records its own script errors, dialogs and console errors, so a test can assert none happened. */
export async function newPage(browser: Browser, width = 1440, height = 900): Promise<{ page: Page; problems: string[] }> {
  const page = await browser.newPage({ viewport: { width, height } })
  page.setDefaultTimeout(10_000)
  const problems: string[] = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`)
    void d.dismiss()
  })
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  return { page, problems }
}

export async function saveScreenshot(page: Page, name: string): Promise<string> {
  await mkdir(OUTPUT_DIR, { recursive: true })
  const file = join(OUTPUT_DIR, name)
  await page.screenshot({ path: file })
  return file
}

/**
 * The text of an element including what its components render in their shadow roots
 * (`textContent` stops at a shadow root, so `<json-tree>`'s own text would read as empty).
 */
/** The little of the DOM that deepText touches; the Node-side tsconfig has no DOM lib. */
type DomNode = { nodeType: number; textContent: string | null; childNodes: ArrayLike<DomNode>; shadowRoot?: DomNode | null }

export function deepText(locator: Locator): Promise<string> {
  return locator.first().evaluate((root) => {
    const TEXT_NODE = 3
    const parts: string[] = []
    const walk = (node: DomNode): void => {
      if (node.nodeType === TEXT_NODE) parts.push(node.textContent ?? '')
      if (node.shadowRoot) walk(node.shadowRoot)
      for (const child of Array.from(node.childNodes)) walk(child)
    }
    walk(root as unknown as DomNode)
    return parts.join('')
  })
}

/** The page's URL hash, read in the page. */
export function hashOf(page: Page): Promise<string> {
  return page.evaluate('location.hash')
}

/** `expect.poll` with a bound that suits a browser on a busy 2-core machine (vitest's default is 1 s). */
export function poll<T>(fn: () => T | Promise<T>, timeout = 15_000): ReturnType<typeof expect.poll<T>> {
  return expect.poll(fn, { timeout, interval: 100 })
}
