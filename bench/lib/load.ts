/**
 * The load generator for the recording benchmarks: `concurrency` clients, each sending its next POST as soon
 * as the previous answer is read, over keep-alive connections (through a proxy's CONNECT tunnels when given
 * one), until `count` requests are answered or `timeoutMs` passes. Every answer is read to the end.
 */
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici'

export type Target = {
  /** e.g. `https://localhost:8443` */
  origin: string
  /** The forward proxy to go through, `http://127.0.0.1:PORT`; none for a direct connection. */
  proxy?: string
  /** PEM certificates the client trusts (the upstream's CA, the proxy's CA). */
  ca: string[]
}

export type LoadResult = {
  count: number
  errors: number
  /** The first error's message, to tell what broke. */
  firstError: string | null
  elapsedMs: number
  reqPerSec: number
  /** Per-request latency, in request order. */
  latenciesMs: number[]
}

export function dispatcherFor(target: Target, connections: number): Dispatcher {
  return target.proxy
    ? new ProxyAgent({ uri: target.proxy, requestTls: { ca: target.ca }, connections, keepAliveTimeout: 60_000 })
    : new Agent({ connect: { ca: target.ca }, connections, keepAliveTimeout: 60_000 })
}

export async function runLoad(options: {
  dispatcher: Dispatcher
  origin: string
  path: string | ((n: number) => string)
  count: number
  concurrency: number
  body: (n: number) => string
  headers?: Record<string, string>
  timeoutMs?: number
  /** Number the requests from here (so that bodies differ across runs). */
  first?: number
}): Promise<LoadResult> {
  const { dispatcher, origin, count, concurrency, body } = options
  const first = options.first ?? 0
  const headers = { 'content-type': 'application/json', 'accept-encoding': 'gzip', ...options.headers }
  const deadline = Date.now() + (options.timeoutMs ?? 120_000)
  const latenciesMs = new Array<number>(count).fill(Number.NaN)
  let next = 0
  let errors = 0
  let firstError: string | null = null
  const start = performance.now()
  async function client(): Promise<void> {
    while (next < count && Date.now() < deadline) {
      const i = next++
      const path = typeof options.path === 'function' ? options.path(first + i) : options.path
      const t0 = performance.now()
      try {
        const res = await request(`${origin}${path}`, { method: 'POST', dispatcher, headers, body: body(first + i) })
        const answer = await res.body.arrayBuffer()
        if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode} for ${path}: ${Buffer.from(answer).toString('utf8', 0, 300)}`)
        latenciesMs[i] = performance.now() - t0
      } catch (e) {
        errors++
        firstError ??= (e as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client))
  const elapsedMs = performance.now() - start
  const answered = latenciesMs.filter((l) => !Number.isNaN(l))
  return { count: answered.length, errors, firstError, elapsedMs, reqPerSec: (answered.length / elapsedMs) * 1000, latenciesMs }
}
