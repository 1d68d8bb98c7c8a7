/** Runs the reltape CLI from source as a child process, the way a user runs the built one. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process'
import { join } from 'node:path'

export const repoRoot = join(import.meta.dirname, '..', '..')

export type CliResult = { code: number | null; stdout: string; stderr: string }

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): CliResult {
  const r: SpawnSyncReturns<string> = spawnSync(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin/reltape.ts'), ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, RELTAPE_DEBUG: '', ...env },
    timeout: timeoutMs,
  })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}
