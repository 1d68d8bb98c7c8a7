/**
 * A window onto a file read front to back in chunks: what the session and journal scanners walk, so that no
 * reader ever holds a whole session (or journal) in memory, let alone as one string. The window grows only as
 * far as one line or one exchange needs, and bytes before the scanner's position are dropped as it moves on.
 */
import { open, type FileHandle } from 'node:fs/promises'

/** Bytes read per chunk: small enough that parsing one chunk keeps the event loop free within a few ms. */
export const CHUNK_BYTES = 1 << 20

export class ByteWindow {
  /** The bytes held: file bytes [base, base + end). */
  buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES)
  /** The file offset of buf[0]. */
  base: number
  /** How many bytes of buf are filled. */
  end = 0
  /** While `lines()` walks, where the current line starts in buf; after it, where the bytes after the last newline start. */
  lineStart = 0
  /** True once the file has no more bytes (as far as its size when this window was opened, or `until`). */
  eof = false
  readonly #handle: FileHandle
  readonly #until: number


  private constructor(
    readonly file: string,
    handle: FileHandle,
    from: number,
    until: number,
  ) {
    this.#handle = handle
    this.#until = until
    this.base = from
  }

  /** Opens `file` at byte `from`, reading up to `until` (default: the size it has now). Null when it does not exist. */
  static async open(file: string, from = 0, until?: number): Promise<ByteWindow | null> {
    let handle: FileHandle
    try {
      handle = await open(file, 'r')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null
      throw e
    }
    const size = until ?? (await handle.stat()).size
    return new ByteWindow(file, handle, from, size)
  }

  /** The file offset just past the last byte held. */
  get fileEnd(): number {
    return this.base + this.end
  }

  /** The size the window reads up to. */
  get limit(): number {
    return this.#until
  }

  /**
   * Drops the bytes before buf index `keep`, then reads at least one more chunk (growing the buffer when what is
   * kept fills it: one long line). Returns false at the end of the file.
   */
  async more(keep: number): Promise<boolean> {
    if (this.eof || this.fileEnd >= this.#until) {
      // Nothing is dropped at the end: the caller's indexes into buf stay valid.
      this.eof = true
      return false
    }
    if (keep > 0) {
      this.buf.copy(this.buf, 0, keep, this.end)
      this.end -= keep
      this.base += keep
    }
    if (this.buf.length - this.end < CHUNK_BYTES) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + CHUNK_BYTES))
      this.buf.copy(bigger, 0, 0, this.end)
      this.buf = bigger
    }
    const want = Math.min(this.buf.length - this.end, this.#until - this.fileEnd)
    const { bytesRead } = await this.#handle.read(this.buf, this.end, want, this.fileEnd)
    if (bytesRead === 0) throw new Error(`${this.file}: ends at byte ${this.fileEnd}, before the ${this.#until} bytes it had when reading began (it was cut while being read)`)
    this.end += bytesRead
    return true
  }

  /**
   * Walks the complete lines from where the window starts: yields the buf index of each line's newline, the line
   * being buf[lineStart, nl) until the next step (bytes before it may then be dropped). Ends at the last newline;
   * the bytes after it (a line still being written, or cut short) are then buf[lineStart, end).
   */
  async *lines(): AsyncGenerator<number> {
    for (;;) {
      const nl = this.buf.indexOf(0x0a, this.lineStart)
      if (nl < 0 || nl >= this.end) {
        if (!(await this.more(this.lineStart))) return
        this.lineStart = 0
        continue
      }
      yield nl
      this.lineStart = nl + 1
    }
  }

  async close(): Promise<void> {
    await this.#handle.close()
  }
}
