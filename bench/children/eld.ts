/** Event-loop delay of this process, for children whose stalls the benchmark reports. */
import { monitorEventLoopDelay } from 'node:perf_hooks'

const histogram = monitorEventLoopDelay({ resolution: 5 })
histogram.enable()

export function eventLoop(): { eldMaxMs: number; eldP99Ms: number } {
  return { eldMaxMs: histogram.max / 1e6, eldP99Ms: histogram.percentile(99) / 1e6 }
}

export function resetEventLoop(): void {
  histogram.reset()
}
