/**
 * `--launch`: Debian's Chromium with a fresh profile, the proxy and reltape's CA (by its SPKI fingerprint),
 * so a tester can start clicking at once without touching their own browser or the system's trust store.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ReltapeError } from '../model/errors.js'

export type LaunchOptions = {
  /** The proxy for Chromium (forward mode); null to go direct (reverse mode: the app points at reltape). */
  proxyUrl: string | null
  spkiFingerprint: string
  /** The page to open; default `about:blank`. */
  url?: string
  /** Default `$CHROMIUM_PATH`, else `/usr/bin/chromium`. */
  executable?: string
  /** Extra flags (tests add `--headless`). */
  extraArgs?: string[]
}

export type LaunchedBrowser = { process: ChildProcess; profileDir: string; close(): Promise<void> }

export class BrowserNotFoundError extends ReltapeError<'BROWSER_NOT_FOUND'> {
  constructor(readonly executable: string) {
    super('BROWSER_NOT_FOUND', { executable })
    this.name = 'BrowserNotFoundError'
  }
}

/** The command-line flags, exported so that they can be shown and tested. */
export function chromiumArgs(o: LaunchOptions, profileDir: string): string[] {
  return [
    `--user-data-dir=${profileDir}`,
    ...(o.proxyUrl
      ? [
          `--proxy-server=${o.proxyUrl}`,
          // Chromium sends loopback hosts direct unless told otherwise; the sandbox and dev servers live there.
          '--proxy-bypass-list=<-loopback>',
        ]
      : []),
    `--ignore-certificate-errors-spki-list=${o.spkiFingerprint}`,
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-quic',
    // Keep the browser's own calls home (updates, sync, field trials) out of the recording.
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication',
    ...(o.extraArgs ?? []),
    o.url ?? 'about:blank',
  ]
}

export function launchChromium(o: LaunchOptions): LaunchedBrowser {
  const executable = o.executable ?? process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
  if (!existsSync(executable)) throw new BrowserNotFoundError(executable)
  const profileDir = mkdtempSync(join(tmpdir(), 'reltape-chromium-'))
  // Its own process group, so that close() also ends the helper processes (renderers, zygote, crash handler),
  // which otherwise can outlive the browser and write into the profile while it is being removed.
  const child = spawn(executable, chromiumArgs(o, profileDir), { stdio: 'ignore', detached: true })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  child.once('error', () => undefined)
  const running = () => child.exitCode === null && child.signalCode === null
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, signal)
    } catch {
      // the group is gone already
    }
  }
  const within = (ms: number) => Promise.race([exited, new Promise((r) => setTimeout(r, ms))])
  return {
    process: child,
    profileDir,
    async close() {
      if (running()) {
        signalGroup('SIGTERM')
        await within(3000)
      }
      // Whatever is left of the group (the browser if it ignored SIGTERM, helpers that outlived it) is killed.
      signalGroup('SIGKILL')
      if (running()) await within(2000)
      // A helper still on its way out can put a file back: remove until the profile stays gone (about 2 s at most).
      for (let attempt = 0; attempt < 20 && existsSync(profileDir); attempt++) {
        try {
          rmSync(profileDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 })
        } catch {
          // retried below; a profile left in the temp directory is harmless, the next launch makes a new one
        }
        if (existsSync(profileDir)) await new Promise((r) => setTimeout(r, 100))
      }
    },
  }
}
