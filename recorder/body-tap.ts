/**
 * A request body as it streams through the proxy: its first `limit` bytes and its whole size. mockttp keeps a body
 * for its events only up to its size limit, and drops all of it beyond; the tap keeps the start of any body and
 * counts the rest, so that a body over `--max-body` is stored cut, with its real size.
 */
import type { Readable } from 'node:stream'

/** Wire bytes of a body as far as they were kept, and its real size when that is more. */
export type WireBody = { bytes: Buffer; realSize?: number }

export class BodyTap {
  readonly #chunks: Buffer[] = []
  #kept = 0
  #total = 0
  #ended = false

  /**
   * Listens to `stream` beside its consumer, from the moment the consumer starts it flowing: a `data` listener added
   * earlier would start the flow itself, before mockttp has set up the stream it forwards (and mockttp, finding the
   * body already past its limit, would forward none of it).
   */
  constructor(
    stream: Readable,
    readonly limit: number,
  ) {
    stream.once('resume', () =>
      stream.on('data', (chunk: Buffer) => {
        this.#total += chunk.length
        if (this.#kept >= this.limit) return
        const part = chunk.length <= this.limit - this.#kept ? chunk : chunk.subarray(0, this.limit - this.#kept)
        this.#chunks.push(part)
        this.#kept += part.length
      }),
    )
    stream.once('end', () => (this.#ended = true))
  }

  /**
   * What went by so far, with the real size when the tap cut it (or will have to: `declared`, the Content-Length,
   * counts while the body has not ended). A body the client left in the middle of is what arrived, not cut.
   */
  body(declared?: number): WireBody {
    const bytes = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks)
    const size = this.#ended ? this.#total : Math.max(this.#total, declared ?? 0)
    return this.#total > this.#kept || size > this.limit ? { bytes, realSize: size } : { bytes }
  }
}
