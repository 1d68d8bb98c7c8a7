/**
 * The child side of bench/lib/children.ts: read the config from argv, tell the parent when ready, answer
 * its commands. A child exits when its parent goes away, so no server outlives a benchmark.
 */
export type Command = { command: string; id: number; [key: string]: unknown }
export type Handler = (command: Command) => Promise<Record<string, unknown>> | Record<string, unknown>

export function childConfig<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T
}

export function ready(info: Record<string, unknown>, handlers: Record<string, Handler> = {}): void {
  process.on('message', async (m: Command) => {
    const handler = handlers[m.command]
    try {
      if (!handler) throw new Error(`unknown command ${m.command}`)
      const reply = await handler(m)
      process.send?.({ type: 'reply', id: m.id, ...reply })
    } catch (e) {
      process.send?.({ type: 'reply', id: m.id, error: (e as Error).stack ?? String(e) })
    }
  })
  process.on('disconnect', () => process.exit(0))
  process.send?.({ type: 'ready', pid: process.pid, ...info })
}

export function fail(e: unknown): never {
  process.send?.({ type: 'error', message: (e as Error).stack ?? String(e) })
  process.exit(1)
}
