/**
 * CPU pinning with `taskset` (util-linux), for a scenario with one load generator and one server at a time.
 * Left to itself, Linux's wake-affine placement often runs the server and the generator on one core while the
 * other idles: measured on replay, 9.3k req/s at under one core in all against 16.7k req/s for the floor
 * in the same run, and the same server reached 16k req/s once each side had its own core.
 */
import { execFileSync } from 'node:child_process'
import { availableParallelism } from 'node:os'

export type Pinning = { note: string; restore(): void }

function taskset(args: string[]): string {
  return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

/**
 * Pins this process (the load generator) and `alongside` (say, an upstream it drives through the server) to core 0,
 * and each server (every thread) to core 1; `restore` undoes it for this process.
 */
export function pinApart(serverPids: number[], alongside: number[] = []): Pinning {
  if (availableParallelism() < 2) return { note: 'not pinned: one core', restore: () => {} }
  let mask: string
  try {
    mask = /:\s*(\S+)\s*$/.exec(taskset(['-p', String(process.pid)]))?.[1] ?? ''
  } catch {
    return { note: 'not pinned: no taskset (util-linux)', restore: () => {} }
  }
  const restore = () => void (mask && taskset(['-p', mask, String(process.pid)]))
  try {
    taskset(['-p', '-c', '0', String(process.pid)])
    for (const pid of alongside) taskset(['-a', '-p', '-c', '0', String(pid)])
    for (const pid of serverPids) taskset(['-a', '-p', '-c', '1', String(pid)])
  } catch (e) {
    // Half pinned is worse than not pinned: this process gets its cores back before the error goes on.
    restore()
    throw e
  }
  return {
    note: `load generator${alongside.length ? ' and upstream' : ''} pinned to core 0, ${serverPids.length > 1 ? 'each server' : 'the server'} to core 1 (taskset)`,
    restore,
  }
}
