/**
 * Where a HAR's bytes come from: a `.har` file, standard input (`-`), or a Playwright `.zip` (its `.har` entry
 * plus the body files its entries name in `_file`). A zip is known by its first bytes, not its name. Nothing is
 * read whole: the HAR comes as a stream of chunks, a body file when an entry asks for it.
 */
import { createReadStream } from 'node:fs'
import { open, readFile } from 'node:fs/promises'
import { basename, dirname, isAbsolute, relative, resolve } from 'node:path'
import { pipeline, type Readable } from 'node:stream'
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib'
import yauzl from 'yauzl'
import { HarFormatError } from '../model/har.js'
import { readFully } from './read-write-fully.js'

export type HarSource = {
  /** The file as the user named it, for messages (`(stdin)` for `-`). */
  readonly where: string
  /** The file's name without its directory and `.har`/`.zip` extension: a default session name. */
  readonly stem: string
  readonly kind: 'har' | 'zip' | 'stdin'
  /** The HAR document's bytes, in chunks. Call once. */
  chunks(): AsyncIterable<Buffer>
  /**
   * A body file named by an entry's `_file`: a zip's entry, or a file beside the `.har` (never outside its folder).
   * Null when there is no such file.
   */
  readFile(name: string): Promise<Buffer | null>
  close(): Promise<void>
}

const CHUNK = 1 << 20
/** How much of a zip is read at once for its body files. */
const READ_AHEAD = 4 << 20

function stemOf(file: string): string {
  return basename(file).replace(/\.(har|zip|json)$/i, '')
}

async function isZip(file: string): Promise<boolean> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(4)
    return (await readFully(handle, head, 0)) === 4 && head.readUInt32LE(0) === 0x04034b50
  } finally {
    await handle.close()
  }
}

function cannotRead(file: string, e: unknown): HarFormatError {
  const err = e as NodeJS.ErrnoException
  const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory, not a HAR file' : err.code === 'EACCES' ? 'permission denied' : err.message
  return new HarFormatError(file, '', `cannot read it: ${why}`)
}

/** Opens a HAR for reading: a path, or `-` for standard input. */
export async function openHarSource(file: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<HarSource> {
  if (file === '-') return stdinSource(stdin)
  let zip: boolean
  try {
    zip = await isZip(file)
  } catch (e) {
    throw cannotRead(file, e)
  }
  return zip ? zipSource(file) : fileSource(file)
}

function stdinSource(stdin: NodeJS.ReadableStream): HarSource {
  return {
    where: '(stdin)',
    stem: '',
    kind: 'stdin',
    async *chunks() {
      let first = true
      for await (const chunk of stdin) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
        if (first && buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50)
          throw new HarFormatError('(stdin)', '', 'this is a zip; give a Playwright HAR zip as a file, not on standard input')
        first = false
        yield buf
      }
    },
    readFile: async () => null,
    close: async () => {},
  }
}

function fileSource(file: string): HarSource {
  const dir = dirname(resolve(file))
  return {
    where: file,
    stem: stemOf(file),
    kind: 'har',
    chunks: () => createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>,
    // Playwright's `content: 'attach'` writes bodies beside the .har; a name that leads out of that folder is refused.
    async readFile(name) {
      const target = resolve(dir, name)
      const rel = relative(dir, target)
      if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return null
      try {
        return await readFile(target)
      } catch {
        return null
      }
    },
    close: async () => {},
  }
}

async function zipSource(file: string): Promise<HarSource> {
  let zip: yauzl.ZipFile
  const entries = new Map<string, yauzl.Entry>()
  try {
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true })
    for await (const entry of zip.eachEntry()) if (!entry.fileName.endsWith('/')) entries.set(entry.fileName, entry)
  } catch (e) {
    throw new HarFormatError(file, '', `not a readable zip: ${(e as Error).message}`)
  }
  // Playwright names it har.har and reads the first `.har` it finds; so do we.
  const harEntry = entries.get('har.har') ?? [...entries.values()].find((e) => /\.har$/i.test(e.fileName))
  if (!harEntry) {
    zip.close()
    throw new HarFormatError(file, '', `the zip holds no .har file (it holds ${entries.size} file(s)); a Playwright HAR zip has har.har`)
  }
  const handle = await open(file, 'r')
  // Body files are read in the order the entries name them, which is mostly the order they lie in the zip: a
  // window of the file read ahead serves most of them from memory, instead of two reads per file.
  let window = { start: 0, bytes: Buffer.alloc(0) }
  const bytesAt = async (offset: number, length: number): Promise<Buffer> => {
    const w = window
    if (offset >= w.start && offset + length <= w.start + w.bytes.length) return w.bytes.subarray(offset - w.start, offset - w.start + length)
    // Forward, the window moves on; a look back (a body file named again) reads just what it needs.
    const ahead = offset >= w.start
    const bytes = Buffer.allocUnsafe(ahead ? Math.max(length, READ_AHEAD) : length)
    const got = await readFully(handle, bytes, offset, length)
    if (got < length) throw new Error('the zip ends inside it')
    if (ahead) window = { start: offset, bytes: bytes.subarray(0, got) }
    return bytes.subarray(0, length)
  }
  /** Where an entry's data starts: after its local header, whose name and extra field lengths are its own. */
  const dataStart = async (entry: yauzl.Entry): Promise<number> => {
    if (entry.isEncrypted()) throw new Error('it is encrypted')
    if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) throw new Error(`compression method ${entry.compressionMethod} is not supported`)
    const header = await bytesAt(entry.relativeOffsetOfLocalHeader, 30)
    if (header.readUInt32LE(0) !== 0x04034b50) throw new Error('no local file header where the zip says')
    return entry.relativeOffsetOfLocalHeader + 30 + header.readUInt16LE(26) + header.readUInt16LE(28)
  }
  // A body file is read whole anyway: its compressed bytes at once and one inflate, checked against the size and
  // CRC the zip gives, cost far less than a stream per file when a zip holds thousands of them.
  const read = async (entry: yauzl.Entry): Promise<Buffer> => {
    try {
      const raw = await bytesAt(await dataStart(entry), entry.compressedSize)
      const bytes = entry.compressionMethod === 0 ? Buffer.from(raw) : inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.uncompressedSize) })
      if (bytes.length !== entry.uncompressedSize || crc32(bytes) !== entry.crc32) throw new Error('its size or checksum is not what the zip says')
      return bytes
    } catch (e) {
      throw new HarFormatError(file, entry.fileName, `cannot read this file of the zip: ${(e as Error).message}`)
    }
  }
  return {
    where: file,
    stem: stemOf(file),
    kind: 'zip',
    // The HAR itself is streamed: its compressed bytes read and inflated in large chunks, checked at the end.
    async *chunks() {
      let start: number
      try {
        start = await dataStart(harEntry)
      } catch (e) {
        throw new HarFormatError(file, harEntry.fileName, `cannot read this file of the zip: ${(e as Error).message}`)
      }
      if (harEntry.compressedSize === 0) return
      const compressed = createReadStream(file, { start, end: start + harEntry.compressedSize - 1, highWaterMark: CHUNK })
      const stream: Readable = harEntry.compressionMethod === 8 ? pipeline(compressed, createInflateRaw({ chunkSize: CHUNK }), () => {}) : compressed
      let crc = 0
      let size = 0
      try {
        for await (const chunk of stream) {
          crc = crc32(chunk as Buffer, crc)
          size += (chunk as Buffer).length
          yield chunk as Buffer
        }
      } catch (e) {
        throw new HarFormatError(file, harEntry.fileName, `cannot read this file of the zip: ${(e as Error).message}`)
      }
      if (size !== harEntry.uncompressedSize || crc !== harEntry.crc32)
        throw new HarFormatError(file, harEntry.fileName, 'cannot read this file of the zip: its size or checksum is not what the zip says')
    },
    async readFile(name) {
      const entry = entries.get(name) ?? entries.get(name.replace(/^\.?\//, ''))
      return entry ? read(entry) : null
    },
    async close() {
      zip.close()
      await handle.close()
    },
  }
}
