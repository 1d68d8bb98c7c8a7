/** The part of autocannon 9's API the benchmarks use (it ships no types). */
declare module 'autocannon' {
  type Request = { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string> }
  type Options = {
    url: string
    connections?: number
    amount?: number
    duration?: number
    timeout?: number
    method?: string
    headers?: Record<string, string>
    body?: string | Buffer
    requests?: Request[]
  }
  type Histogram = { average: number; p50: number; p90: number; p99: number; max: number }
  type Result = {
    requests: Histogram & { total: number; sent: number }
    latency: Histogram
    duration: number
    errors: number
    timeouts: number
    non2xx: number
    '2xx': number
  }
  function autocannon(options: Options): Promise<Result>
  export default autocannon
}
