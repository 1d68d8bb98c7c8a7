/** Event-loop delay of this process, for children whose stalls the benchmark reports. */
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

const histogram = monitorEventLoopDelay({ resolution: 5 })
histogram.enable()

// Garbage-collection pauses, to tell a stall caused by the heap's size from one caused by code.
let gcMaxMs = 0
let gcTotalMs = 0
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcMaxMs = Math.max(gcMaxMs, entry.duration)
    gcTotalMs += entry.duration
  }
}).observe({ entryTypes: ['gc'] })

export function eventLoop(): { eldMaxMs: number; eldP99Ms: number; gcMaxMs: number; gcTotalMs: number } {
  return { eldMaxMs: histogram.max / 1e6, eldP99Ms: histogram.percentile(99) / 1e6, gcMaxMs, gcTotalMs }
}

export function resetEventLoop(): void {
  histogram.reset()
  gcMaxMs = 0
  gcTotalMs = 0
}
