/** Starts `reltape record` (from source) as a child process and waits until it is recording. */
import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from './cli.js'

export type RecorderProcess = { child: ChildProcess; url: string; output(): string; exited: Promise<number | null> }

export async function spawnRecorder(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<RecorderProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'bin/reltape.ts'), 'record', ...args], {
    cwd: repoRoot,
    env: { ...process.env, RELTAPE_DEBUG: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reltape record did not start in time:\n${out}`)), timeoutMs)
    const check = () => {
      const m = /proxy on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*Recording\./.exec(out)
      if (m?.[1]) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    child.stdout!.on('data', check)
    void exited.then((code) => {
      clearTimeout(timer)
      reject(new Error(`reltape record exited with ${code}:\n${out}`))
    })
  })
  return { child, url, output: () => out, exited }
}
