/**
 * Reads and writes that go on until every byte is through: a read or a write may move fewer bytes than asked
 * (a signal, a pipe, a file system's limit per call), and the rest must follow, at the next position.
 */
import { writev } from 'node:fs'
import type { FileHandle } from 'node:fs/promises'

/**
 * Reads into `buffer` from `position` until it holds at least `least` bytes (default: as many as it can hold) or
 * the file ends; returns how many it holds. Asks for the buffer's whole room each time, so it may read past `least`.
 */
export async function readFully(handle: FileHandle, buffer: Buffer, position: number, least = buffer.length): Promise<number> {
  let got = 0
  while (got < least) {
    const { bytesRead } = await handle.read(buffer, got, buffer.length - got, position + got)
    if (bytesRead === 0) break
    got += bytesRead
  }
  return got
}

/**
 * Writes every byte of `chunks` (in order, one gathered write when the system takes them all) at `position`;
 * returns how many that is. `file` is a handle, or a descriptor (written through the thread pool all the same).
 */
export async function writeFully(file: FileHandle | number, chunks: Buffer | readonly Buffer[], position: number): Promise<number> {
  let rest = Buffer.isBuffer(chunks) ? [chunks] : [...chunks]
  const total = rest.reduce((n, c) => n + c.length, 0)
  for (let done = 0; done < total; ) {
    const n = await writevAt(file, rest, position + done)
    done += n
    rest = after(rest, n)
  }
  return total
}

function writevAt(file: FileHandle | number, chunks: Buffer[], position: number): Promise<number> {
  if (typeof file !== 'number') return file.writev(chunks, position).then((r) => r.bytesWritten)
  return new Promise((resolve, reject) => writev(file, chunks, position, (e, n) => (e ? reject(e) : resolve(n))))
}

/** The chunks without their first `n` bytes (those written), sharing their memory. */
function after(chunks: readonly Buffer[], n: number): Buffer[] {
  const rest: Buffer[] = []
  for (const c of chunks) {
    if (n >= c.length) n -= c.length
    else {
      rest.push(n > 0 ? c.subarray(n) : c)
      n = 0
    }
  }
  return rest
}
