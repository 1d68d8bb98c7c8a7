/**
 * CPU time of a process (any language) from Linux's scheduler statistics: the sum over its threads of
 * `/proc/<pid>/task/<tid>/schedstat` (nanoseconds on CPU). Unlike utime/stime in `/proc/<pid>/stat`
 * (10 ms ticks), this is precise enough for runs of a second, and it counts GC and libuv threads too.
 */
import { readdirSync, readFileSync } from 'node:fs'

export function cpuNs(pid: number): number {
  let total = 0
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return Number.NaN
  }
  for (const tid of tids) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8')
      total += Number(text.split(' ')[0])
    } catch {
      // the thread ended between readdir and read: its time is gone with it (a rounding error here)
    }
  }
  return total
}

/** Resident memory of a process in bytes, from `/proc/<pid>/status` (VmRSS). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) * 1024 : Number.NaN
  } catch {
    return Number.NaN
  }
}

/** Peak resident memory of a live process in bytes, from `/proc/<pid>/status` (VmHWM). */
export function peakRssBytes(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`)
  return Number(m[1]) * 1024
}
