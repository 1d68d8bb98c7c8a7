/**
 * Systems under test run in child processes: their CPU can be measured on their own, and they do not share
 * the load generator's event loop. Every child started here is killed when the benchmark exits (Ctrl-C too).
 */
import { fork, spawn, type ChildProcess } from 'node:child_process'
import { createConnection, createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { compiledChild } from './compile.js'

const live = new Set<ChildProcess>()

/** The children that run reltape's code (and its floor): the ones worth a CPU profile. */
const PROFILED = new Set(['capture', 'recorder', 'replay', 'viewer', 'mockttp-bare', 'fastify-floor'])

function killAll(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
}
process.on('exit', killAll)
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll()
    process.exit(130)
  })
}

/** Messages a bench child sends its parent. Each child answers a request with a reply of the same `id`. */
export type ChildMessage = { type: 'ready'; [key: string]: unknown } | { type: 'reply'; id: number; [key: string]: unknown } | { type: 'error'; message: string }

export class BenchChild {
  #nextId = 1
  #waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>()
  readonly exited: Promise<number | null>
  /** The end of what the child wrote to stderr: its own account of a failure the parent only sees the effect of. */
  #stderr = ''

  constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {
    live.add(process)
    process.stderr?.on('data', (d: Buffer) => {
      this.#stderr = (this.#stderr + d.toString()).slice(-4000)
    })
    this.exited = new Promise((resolve) => {
      process.once('exit', (code) => {
        live.delete(process)
        for (const w of this.#waiting.values()) w.reject(new Error(`${name} exited (code ${code}) before it replied`))
        this.#waiting.clear()
        resolve(code)
      })
    })
    process.on('message', (m: ChildMessage) => {
      if (m.type !== 'reply') return
      const w = this.#waiting.get(m.id)
      this.#waiting.delete(m.id)
      w?.resolve(m)
    })
  }

  /** The last 4,000 characters the child wrote to stderr. */
  get stderr(): string {
    return this.#stderr
  }

  get pid(): number {
    return this.process.pid as number
  }

  /** Sends a command to the child and waits for its reply. */
  ask(command: string, args: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<Record<string, unknown>> {
    const id = this.#nextId++
    return withTimeout(
      new Promise((resolve, reject) => {
        this.#waiting.set(id, { resolve, reject })
        this.process.send({ command, id, ...args })
      }),
      timeoutMs,
      `${this.name}: no reply to ${command}`,
    )
  }

  /** Asks the child to exit (it exits when its IPC channel closes, writing a CPU profile if it keeps one), then kills it. */
  async kill(graceMs = 5000): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return
    if (this.process.connected) {
      this.process.disconnect()
      const timer = setTimeout(() => this.process.kill('SIGKILL'), graceMs)
      await this.exited
      clearTimeout(timer)
      return
    }
    this.process.kill('SIGKILL')
    await this.exited
  }
}

/**
 * Starts `bench/children/<script>.ts`, compiled (see compile.ts; RELTAPE_BENCH_TSX=1 runs it through tsx instead), and waits for its `ready` message (which carries its URL
 * and anything else it wants the parent to know).
 */
export async function startNodeChild(
  script: string,
  config: Record<string, unknown>,
  options: { env?: NodeJS.ProcessEnv; execArgv?: string[]; timeoutMs?: number } = {},
): Promise<{ child: BenchChild; ready: Record<string, unknown> }> {
  const compiled = process.env.RELTAPE_BENCH_TSX ? null : await compiledChild(script)
  const file = compiled ?? fileURLToPath(new URL(`../children/${script}.ts`, import.meta.url))
  // RELTAPE_BENCH_PROFILE=<dir> (set by `--profile`): reltape's own children write a V8 CPU profile there when they exit.
  const profileDir = process.env.RELTAPE_BENCH_PROFILE
  // One folder per child: under tsx, its loader runs in a worker thread, which writes a profile of its own.
  const profile = profileDir && PROFILED.has(script) ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}/${script}-${Date.now()}`] : []
  const proc = fork(file, [JSON.stringify(config)], {
    execArgv: [...(compiled ? [] : ['--import', 'tsx']), ...profile, ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const child = new BenchChild(script, proc)
  const ready = await withTimeout(
    new Promise<Record<string, unknown>>((resolve, reject) => {
      proc.on('message', (m: ChildMessage) => {
        if (m.type === 'ready') resolve(m)
        if (m.type === 'error') reject(new Error(`${script}: ${m.message}`))
      })
      child.exited.then((code) => reject(new Error(`${script} exited (code ${code}) before it was ready: ${stderr.trim()}`)))
    }),
    options.timeoutMs ?? 60_000,
    `${script} was not ready`,
  ).catch(async (e: Error) => {
    await child.kill()
    throw e
  })
  return { child, ready }
}

/** Starts a program that is not ours (mitmdump) and waits until it listens on `port`. */
export async function startProgram(name: string, command: string, args: string[], port: number, env: NodeJS.ProcessEnv = {}): Promise<BenchChild> {
  const proc = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  proc.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const child = new BenchChild(name, proc)
  const deadline = Date.now() + 30_000
  while (!(await canConnect(port))) {
    if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`${name} exited before listening: ${stderr.trim()}`)
    if (Date.now() > deadline) {
      await child.kill()
      throw new Error(`${name} did not listen on ${port} within 30 s: ${stderr.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return child
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** A free loopback port, for programs that cannot be told to use port 0 and report it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
