/**
 * Reads a session file front to back, one exchange at a time, without holding the file (or any more of it than
 * one exchange) in memory. It finds where each exchange's JSON starts and ends (its byte span, for reading it
 * again later by offset), the head around the `exchanges` array, and where the next exchange can be appended.
 *
 * The file is one JSON document. reltape writes it with one exchange per line, which the scanner reads a line at
 * a time; any other layout of the same JSON (a pretty-printed fixture, one long line) is read by walking its
 * structure, byte by byte, so every valid session opens.
 */
import { ByteWindow } from './byte-window.js'
import { ReltapeError } from '../model/errors.js'

/** Where a session file's exchanges array lies, and whether the file's JSON ends where it should. */
export type FileLayout = {
  /** The file's size when it was scanned. */
  size: number
  /** Just past the `[` of the exchanges array. */
  arrayStart: number
  /** Where the next exchange goes: just past the last complete exchange, or `arrayStart` when there is none. */
  appendAt: number
  /** Complete exchanges in the array. */
  count: number
  /** Head keys that come after the exchanges array, in file order (`identities` in files reltape writes). */
  keysAfter: string[]
  /** False when the file ends before its JSON does: a write cut short. `appendAt` is then the last good place. */
  complete: boolean
}

/** One exchange found in the file: its byte span and its parsed (not yet validated) JSON. */
export type FileElement = { offset: number; length: number; value: unknown; index: number }

export type FileScan = {
  /** The head: every top-level key but `exchanges` (parsed, not yet validated). Null when the file is torn before its array. */
  head: Record<string, unknown> | null
  layout: FileLayout
}

/** A session file that is not the JSON a session is: names the byte offset and what is wrong there. */
export class SessionScanError extends ReltapeError<'SESSION_INVALID'> {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly problem: string,
  ) {
    super('SESSION_INVALID', { where: file, path: `byte ${offset}`, problem })
    this.name = 'SessionScanError'
  }
}

const enum Ch {
  LF = 0x0a,
  CR = 0x0d,
  SPACE = 0x20,
  TAB = 0x09,
  QUOTE = 0x22,
  BACKSLASH = 0x5c,
  COMMA = 0x2c,
  COLON = 0x3a,
  LBRACE = 0x7b,
  RBRACE = 0x7d,
  LBRACKET = 0x5b,
  RBRACKET = 0x5d,
}

function isSpace(c: number): boolean {
  return c === Ch.SPACE || c === Ch.LF || c === Ch.CR || c === Ch.TAB
}

/** The index just past the string whose opening quote is at `open`, or -1 when it ends beyond `end`. */
function stringEnd(buf: Buffer, open: number, end: number): number {
  let at = open + 1
  for (;;) {
    const q = buf.indexOf(Ch.QUOTE, at)
    if (q < 0 || q >= end) return -1
    let slashes = 0
    for (let i = q - 1; i > open && buf[i] === Ch.BACKSLASH; i--) slashes++
    if (slashes % 2 === 0) return q + 1
    at = q + 1
  }
}

/**
 * The index just past the JSON value (object or array) that opens at `open`, or -1 when it ends beyond `end`.
 * Only brackets and strings matter: the value is parsed afterwards, which checks everything else.
 */
function valueEnd(buf: Buffer, open: number, end: number): number {
  let depth = 0
  let i = open
  while (i < end) {
    const c = buf[i]!
    if (c === Ch.QUOTE) {
      const after = stringEnd(buf, i, end)
      if (after < 0) return -1
      i = after
      continue
    }
    if (c === Ch.LBRACE || c === Ch.LBRACKET) depth++
    else if (c === Ch.RBRACE || c === Ch.RBRACKET) {
      depth--
      if (depth === 0) return i + 1
    }
    i++
  }
  return -1
}

/** True when only spaces stand between the start of `at`'s line and `at`: reltape's one-exchange-per-line layout. */
function startsLine(buf: Buffer, at: number): boolean {
  for (let i = at - 1; i >= 0; i--) {
    const c = buf[i]
    if (c === Ch.LF) return true
    if (c !== Ch.SPACE && c !== Ch.TAB) return false
  }
  return false
}

/**
 * The exchange on the line that starts at `open`, when the line holds exactly one (and an optional comma):
 * its end index and parsed value. Null when the line is not that (a pretty-printed object starts with a lone `{`).
 */
function lineElement(buf: Buffer, open: number, lineEnd: number): { end: number; value: unknown } | null {
  let e = lineEnd
  while (e > open && isSpace(buf[e - 1]!)) e--
  if (buf[e - 1] === Ch.COMMA) e--
  if (e - open < 2 || buf[e - 1] !== Ch.RBRACE) return null
  try {
    return { end: e, value: JSON.parse(buf.toString('utf8', open, e)) }
  } catch {
    return null
  }
}

export type ScanOptions = {
  /** Start inside the exchanges array at this offset (a previous scan's `appendAt`), to read only what was appended since. */
  resume?: { appendAt: number; arrayStart: number; count: number }
}

/**
 * Scans a session file, calling `onElement` for each exchange in file order (awaited, so a caller can write as
 * it reads). Returns the head and the layout; throws SessionScanError for bytes that are not a session's JSON.
 * A file that merely ends too early is not an error here: `layout.complete` is false and the caller decides.
 * Returns null when the file does not exist.
 */
export async function scanSessionFile(
  file: string,
  onElement: (element: FileElement) => void | Promise<void>,
  options: ScanOptions = {},
): Promise<FileScan | null> {
  const w = await ByteWindow.open(file, options.resume?.appendAt ?? 0)
  if (!w) return null
  try {
    return await scan(w, onElement, options)
  } finally {
    await w.close()
  }
}

type Phase = 'head' | 'array' | 'after' | 'done'

async function scan(w: ByteWindow, onElement: (element: FileElement) => void | Promise<void>, options: ScanOptions): Promise<FileScan> {
  const file = w.file
  const headParts: Buffer[] = []
  let phase: Phase = 'head'
  let pos = 0 // buffer index of the next byte to look at
  let arrayStart = -1
  let appendAt = -1
  let count = 0
  let lineLayout = true
  // Head walking state: depth of nesting, the last key seen at depth 1, whether a `:` followed it.
  let depth = 0
  let lastKey: string | null = null
  let expectKey = false
  let afterStart = 0 // buffer index where the current head part began
  let afterText: Buffer[] = []
  const keysAfter: string[] = []

  if (options.resume) {
    phase = 'array'
    arrayStart = options.resume.arrayStart
    appendAt = options.resume.appendAt
    count = options.resume.count
    depth = 1
  } else {
    // Skip a UTF-8 byte-order mark, which some editors add.
    if (!(await w.more(0))) throw new SessionScanError(file, 0, 'the file is empty')
    if (w.buf[0] === 0xef && w.buf[1] === 0xbb && w.buf[2] === 0xbf) pos = 3
  }

  const torn = (): FileScan => ({
    head: phase === 'head' || options.resume ? null : tornHead(),
    layout: { size: w.limit, arrayStart, appendAt: appendAt < 0 ? 0 : appendAt, count, keysAfter, complete: false },
  })

  const parseHead = (): Record<string, unknown> | null => {
    if (options.resume) {
      // Only what follows the array was read: the keys after it.
      const text = `{"exchanges":[]${Buffer.concat(afterText).toString('utf8')}`
      return safeParse(text)
    }
    const text = `${Buffer.concat(headParts).toString('utf8')}[]${Buffer.concat(afterText).toString('utf8')}`
    return safeParse(text)
  }
  // A torn file keeps the head before its array; what came after it (identities) is in the journal.
  const tornHead = (): Record<string, unknown> | null => {
    try {
      return safeParse(`${Buffer.concat(headParts).toString('utf8')}[]}`)
    } catch {
      return null
    }
  }
  const safeParse = (text: string): Record<string, unknown> | null => {
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch (e) {
      throw new SessionScanError(file, 0, `the head (everything but the exchanges) is not valid JSON: ${(e as Error).message}`)
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionScanError(file, 0, 'expected a JSON object')
    const head = value as Record<string, unknown>
    delete head.exchanges
    return head
  }

  // Refills the window keeping bytes from `keep`; returns false at the end of the file.
  const refill = async (keep: number): Promise<boolean> => {
    if (w.eof || w.fileEnd >= w.limit) return false
    if (phase === 'head' && keep > afterStart) {
      headParts.push(Buffer.from(w.buf.subarray(afterStart, keep)))
      afterStart = 0
    } else if (phase === 'head') afterStart -= keep
    if (phase === 'after' && keep > afterStart) {
      afterText.push(Buffer.from(w.buf.subarray(afterStart, keep)))
      afterStart = 0
    } else if (phase === 'after') afterStart -= keep
    const got = await w.more(keep)
    pos -= keep
    return got
  }

  for (;;) {
    if (pos >= w.end) {
      if (!(await refill(pos))) break
      continue
    }
    const buf = w.buf
    const c = buf[pos]!
    if (phase === 'head' || phase === 'after') {
      if (isSpace(c) || c === Ch.COLON) {
        pos++
        continue
      }
      if (c === Ch.COMMA) {
        if (depth === 1) expectKey = true
        pos++
        continue
      }
      if (c === Ch.QUOTE) {
        const end = stringEnd(buf, pos, w.end)
        if (end < 0) {
          if (!(await refill(pos))) break
          continue
        }
        if (depth === 1) {
          if (expectKey) {
            lastKey = JSON.parse(buf.toString('utf8', pos, end)) as string
            if (phase === 'after') keysAfter.push(lastKey)
          } else lastKey = null
          expectKey = false
        }
        pos = end
        continue
      }
      if (c === Ch.LBRACE || c === Ch.LBRACKET) {
        if (depth === 0) {
          if (c !== Ch.LBRACE) throw new SessionScanError(file, w.base + pos, 'expected a JSON object (a reltape session)')
          depth = 1
          expectKey = true
          pos++
          continue
        }
        if (phase === 'head' && depth === 1 && lastKey === 'exchanges' && c === Ch.LBRACKET) {
          headParts.push(Buffer.from(buf.subarray(afterStart, pos)))
          phase = 'array'
          arrayStart = w.base + pos + 1
          appendAt = arrayStart
          pos++
          continue
        }
        // A nested head value (recording, identities): skip it whole.
        const end = valueEnd(buf, pos, w.end)
        if (end < 0) {
          if (!(await refill(pos))) break
          continue
        }
        pos = end
        lastKey = null
        expectKey = false
        continue
      }
      if (c === Ch.RBRACE && depth === 1) {
        pos++
        if (phase === 'head') throw new SessionScanError(file, w.base + pos - 1, 'no "exchanges" array (is this a reltape session file?)')
        afterText.push(Buffer.from(buf.subarray(afterStart, pos)))
        phase = 'done'
        break
      }
      // A number, true, false or null at depth 1: its text runs to the next delimiter (JSON.parse checks it).
      if (depth === 1 && c !== Ch.RBRACE && c !== Ch.RBRACKET) {
        while (pos < w.end && !isSpace(w.buf[pos]!) && w.buf[pos] !== Ch.COMMA && w.buf[pos] !== Ch.RBRACE) pos++
        lastKey = null
        expectKey = false
        continue
      }
      throw new SessionScanError(file, w.base + pos, `unexpected ${JSON.stringify(String.fromCharCode(c))}`)
    }
    // phase === 'array': between exchanges.
    if (isSpace(c) || c === Ch.COMMA) {
      pos++
      continue
    }
    if (c === Ch.RBRACKET) {
      phase = 'after'
      afterStart = pos + 1
      expectKey = false
      pos++
      continue
    }
    if (c !== Ch.LBRACE) throw new SessionScanError(file, w.base + pos, `exchanges[${count}]: expected an object`)
    let element: { end: number; value: unknown } | null = null
    // At the window's first byte the line's start was already checked before the window moved on.
    if (lineLayout && (pos === 0 || startsLine(buf, pos))) {
      const lineEnd = buf.indexOf(Ch.LF, pos)
      if (lineEnd < 0 || lineEnd >= w.end) {
        if (!w.eof) {
          if (!(await refill(pos))) break
          continue
        }
      } else element = lineElement(buf, pos, lineEnd)
    }
    if (!element) {
      lineLayout = false
      const end = valueEnd(buf, pos, w.end)
      if (end < 0) {
        if (!(await refill(pos))) break
        continue
      }
      let value: unknown
      try {
        value = JSON.parse(buf.toString('utf8', pos, end))
      } catch (e) {
        throw new SessionScanError(file, w.base + pos, `exchanges[${count}] is not valid JSON: ${(e as Error).message}`)
      }
      element = { end, value }
    } else lineLayout = true
    const offset = w.base + pos
    const length = element.end - pos
    await onElement({ offset, length, value: element.value, index: count })
    count++
    appendAt = offset + length
    pos = element.end
  }
  if (phase !== 'done') return torn()
  return { head: parseHead(), layout: { size: w.limit, arrayStart, appendAt, count, keysAfter, complete: true } }
}
