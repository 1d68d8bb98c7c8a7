/**
 * Reads a HAR document from a stream of bytes, one entry at a time: `log.entries[i]` is found by its brackets and
 * parsed alone, so a 100 MB HAR is never one string, and memory holds the entry being read, not the file. Every
 * other key of `log` (`version`, `creator`, `pages`, …) is parsed and handed over as it is met; keys outside `log`
 * are checked and skipped. A UTF-8 byte-order mark is skipped.
 *
 * Only the skeleton (the root object, `log`, the `entries` array) is walked here; each value is checked by
 * `JSON.parse`, so anything that is not JSON fails with the file, the JSON path and the byte offset.
 */
import { HarFormatError } from '../model/har.js'

export type HarScanHandlers = {
  /** A key of `log` other than `entries`, with its parsed value. */
  onLogKey?(key: string, value: unknown): void | Promise<void>
  /** One entry, parsed but not checked, awaited before the next is read. */
  onEntry(value: unknown, index: number): void | Promise<void>
}

const enum Ch {
  TAB = 0x09,
  LF = 0x0a,
  CR = 0x0d,
  SPACE = 0x20,
  QUOTE = 0x22,
  COMMA = 0x2c,
  COLON = 0x3a,
  LBRACKET = 0x5b,
  BACKSLASH = 0x5c,
  RBRACKET = 0x5d,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
}

const isSpace = (c: number) => c === Ch.SPACE || c === Ch.LF || c === Ch.CR || c === Ch.TAB

/** Bytes from a stream, in one buffer that keeps what the scanner still needs (from `mark`) and grows by doubling. */
class Bytes {
  buf: Buffer = Buffer.allocUnsafe(1 << 16)
  end = 0
  /** Offset in the stream of buf[0]. */
  base = 0
  pos = 0
  /** The first byte still needed (a value being read); bytes before it may be dropped. */
  mark = 0
  eof = false
  readonly #it: AsyncIterator<Buffer | string>

  constructor(source: AsyncIterable<Buffer | string>) {
    this.#it = source[Symbol.asyncIterator]()
  }

  /** Reads another chunk, dropping bytes before `mark`; false at the end of the stream. Indexes shift by what was dropped. */
  async more(): Promise<boolean> {
    if (this.eof) return false
    let chunk: Buffer
    for (;;) {
      const r = await this.#it.next()
      if (r.done) {
        this.eof = true
        return false
      }
      chunk = typeof r.value === 'string' ? Buffer.from(r.value) : r.value
      if (chunk.length > 0) break
    }
    const drop = this.mark
    const kept = this.end - drop
    if (drop > 0 && kept + chunk.length <= this.buf.length) {
      this.buf.copy(this.buf, 0, drop, this.end)
    } else if (kept + chunk.length > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, kept + chunk.length))
      this.buf.copy(bigger, 0, drop, this.end)
      this.buf = bigger
    }
    this.end = kept
    this.base += drop
    this.pos -= drop
    this.mark = 0
    chunk.copy(this.buf, this.end)
    this.end += chunk.length
    return true
  }

  /** The next byte that is not white space (pos stays on it), or −1 at the end. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.pos < this.end && isSpace(this.buf[this.pos]!)) this.pos++
      if (this.pos < this.end) return this.buf[this.pos]!
      this.mark = this.pos
      if (!(await this.more())) return -1
    }
  }

  offset(): number {
    return this.base + this.pos
  }

  /** Lets go of the source (a file stream is closed) when the scan stops before the source ends. */
  async close(): Promise<void> {
    if (!this.eof) await this.#it.return?.()
  }
}

/** Scans a HAR document, calling the handlers as it goes. Returns how many entries it read. */
export async function scanHar(source: AsyncIterable<Buffer | string>, file: string, handlers: HarScanHandlers): Promise<{ entries: number }> {
  const b = new Bytes(source)
  try {
    return await scanBytes(b, file, handlers)
  } finally {
    // An entry found invalid (or a handler that throws) stops the scan part way: the file is not left open.
    await b.close()
  }
}

async function scanBytes(b: Bytes, file: string, handlers: HarScanHandlers): Promise<{ entries: number }> {
  const fail = (path: string, problem: string): never => {
    throw new HarFormatError(file, path, problem)
  }
  const unexpected = (path: string, c: number, wanted: string): never =>
    c < 0 ? fail(path, `the file ends before the JSON does (truncated?), at byte ${b.offset()}`) : fail(path, `expected ${wanted} at byte ${b.offset()}, found ${JSON.stringify(String.fromCharCode(c))}`)

  /** Reads the JSON value at pos (after white space) and returns its text; pos moves past it. */
  const valueText = async (path: string): Promise<string> => {
    const c = await b.peek()
    if (c < 0) unexpected(path, c, 'a value')
    b.mark = b.pos
    let i = b.pos
    let depth = 0
    let inString = false
    const scalar = c !== Ch.LBRACE && c !== Ch.LBRACKET && c !== Ch.QUOTE
    for (;;) {
      const { buf, end } = b
      if (scalar) {
        while (i < end) {
          const x = buf[i]!
          if (isSpace(x) || x === Ch.COMMA || x === Ch.RBRACE || x === Ch.RBRACKET) break
          i++
        }
        if (i < end || b.eof) break
      } else {
        let done = false
        while (i < end) {
          if (inString) {
            const q = buf.indexOf(Ch.QUOTE, i)
            if (q < 0 || q >= end) {
              i = end
              break
            }
            let slashes = 0
            for (let k = q - 1; k >= b.mark && buf[k] === Ch.BACKSLASH; k--) slashes++
            i = q + 1
            if (slashes % 2 === 0) {
              inString = false
              if (depth === 0) {
                done = true
                break
              }
            }
            continue
          }
          const x = buf[i]!
          if (x === Ch.QUOTE) inString = true
          else if (x === Ch.LBRACE || x === Ch.LBRACKET) depth++
          else if (x === Ch.RBRACE || x === Ch.RBRACKET) {
            depth--
            if (depth === 0) {
              i++
              done = true
              break
            }
          }
          i++
        }
        if (done) break
      }
      const before = b.mark
      if (!(await b.more())) {
        if (scalar) break
        fail(path, `the file ends before the JSON does (truncated?), at byte ${b.base + b.end}`)
      }
      i -= before
    }
    const text = b.buf.toString('utf8', b.mark, i)
    b.pos = i
    b.mark = i
    return text
  }

  const parse = (text: string, path: string): unknown => {
    try {
      return JSON.parse(text)
    } catch (e) {
      return fail(path, `not valid JSON: ${(e as Error).message}`)
    }
  }

  /** Walks the members of the object whose `{` is at pos, calling `member` with pos on each value. */
  const members = async (path: string, member: (key: string, keyPath: string) => Promise<void>): Promise<void> => {
    b.pos++ // the `{`
    let first = true
    for (;;) {
      let c = await b.peek()
      if (c === Ch.RBRACE) {
        b.pos++
        return
      }
      if (!first) {
        if (c !== Ch.COMMA) unexpected(path, c, '"," or "}"')
        b.pos++
        c = await b.peek()
      }
      first = false
      if (c !== Ch.QUOTE) unexpected(path, c, 'a key')
      const key = parse(await valueText(path), path) as string
      const keyPath = path === '$' ? key : `${path}.${key}`
      c = await b.peek()
      if (c !== Ch.COLON) unexpected(keyPath, c, '":"')
      b.pos++
      await member(key, keyPath)
    }
  }

  let entries = 0
  let sawLog = false
  let sawEntries = false

  const readEntries = async (path: string): Promise<void> => {
    b.pos++ // the `[`
    let c = await b.peek()
    if (c === Ch.RBRACKET) {
      b.pos++
      return
    }
    for (;;) {
      const p = `${path}[${entries}]`
      if (c !== Ch.LBRACE) unexpected(p, c, 'an object')
      await handlers.onEntry(parse(await valueText(p), p), entries)
      entries++
      c = await b.peek()
      if (c === Ch.RBRACKET) {
        b.pos++
        return
      }
      if (c !== Ch.COMMA) unexpected(path, c, '"," or "]"')
      b.pos++
      c = await b.peek()
    }
  }

  // A byte-order mark, which Windows tools write.
  if (!(await b.more())) fail('', 'the file is empty')
  while (b.end < 3 && (await b.more()));
  if (b.end >= 3 && b.buf[0] === 0xef && b.buf[1] === 0xbb && b.buf[2] === 0xbf) b.pos = b.mark = 3
  const c = await b.peek()
  if (c !== Ch.LBRACE) unexpected('$', c, 'a JSON object (a HAR file)')
  await members('$', async (key, keyPath) => {
    if (key !== 'log') {
      parse(await valueText(keyPath), keyPath)
      return
    }
    sawLog = true
    const v = await b.peek()
    if (v !== Ch.LBRACE) fail('log', `expected an object at byte ${b.offset()}`)
    await members('log', async (logKey, logPath) => {
      if (logKey === 'entries') {
        const a = await b.peek()
        if (a !== Ch.LBRACKET) fail(logPath, `expected an array at byte ${b.offset()}`)
        sawEntries = true
        await readEntries(logPath)
        return
      }
      const value = parse(await valueText(logPath), logPath)
      await handlers.onLogKey?.(logKey, value)
    })
  })
  if (!sawLog) fail('log', 'missing (is this a HAR file?)')
  if (!sawEntries) fail('log.entries', 'missing')
  const after = await b.peek()
  if (after >= 0) fail('$', `unexpected data after the JSON document, at byte ${b.offset()}`)
  return { entries }
}
