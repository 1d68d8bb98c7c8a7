/**
 * The layout of `.<name>.entities`, a session's entity index on disk (store/entity-index.ts keeps it current).
 *
 * A header line, then one line per entity. The header says what the index describes (the session's file and journal
 * stamps, the config it was built with), holds the calls that answered an envelope error by error name, and a
 * directory: each entity's key and where its line starts. So `reltape find Clients#11` reads the header and one line
 * per session, never the whole index. An entity's line is compact: its appearances are flat arrays of numbers (seqs
 * as differences from the one before) over a table of the line's strings, not an object per appearance, because an
 * entity carried by every call has as many appearances as the session has calls.
 */
import { open, type FileHandle } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import type { Entity, EntityCarry, EntityReference, ErrorCall } from '../model/entities.js'
import type { FindMatch } from './find.js'
import { readFully } from './read-write-fully.js'
import type { FileStamp } from './session-index.js'

export const ENTITIES_FORMAT = 'reltape.entities/2'

/** The first line of `.<name>.entities`. */
export type EntitiesHeader = {
  format: typeof ENTITIES_FORMAT
  /** A hash of the config the index was built with: another config means another index. */
  config: string
  file: FileStamp | null
  journal: FileStamp | null
  lastSeq: number
  exchanges: number
  entities: number
  /** Error name → the calls, flat: seq (as a difference from the previous one), then 1 for `Error.Code` or 0 for `Error`. */
  errors: Record<string, number[]>
  /** Every entity's key, in order of first appearance, … */
  keys: string[]
  /** … and where its line starts, counted from the end of this header line, … */
  offsets: number[]
  /**
   * … and how many matches `reltape find` makes of it (`matchCount`), so that a search can count what it does not
   * list without reading lines. Absent from indexes written before it was: then the lines are read.
   */
  matches?: number[]
}

/** An entity's line: the entity without an object per appearance. */
type EntityLine = Omit<Entity, 'carried' | 'referenced'> & {
  /** The paths, fields and entity keys the appearances name. */
  strings: string[]
  /** Per carry: seq (difference), index of `where` in `strings`, version. */
  carried: number[]
  /** Per reference: seq (difference), index of `field`, index of `where`, index of `from` + 1 (0: none), resolved (1/0). */
  referenced: number[]
}

class StringTable {
  readonly strings: string[] = []
  readonly #at = new Map<string, number>()
  of(s: string): number {
    let i = this.#at.get(s)
    if (i === undefined) {
      i = this.strings.length
      this.strings.push(s)
      this.#at.set(s, i)
    }
    return i
  }
}

export function entityLine(entity: Entity): string {
  const table = new StringTable()
  const carried: number[] = []
  let seq = 0
  for (const c of entity.carried) {
    carried.push(c.seq - seq, table.of(c.where), c.version)
    seq = c.seq
  }
  const referenced: number[] = []
  seq = 0
  for (const r of entity.referenced) {
    referenced.push(r.seq - seq, table.of(r.field), table.of(r.where), r.from === undefined ? 0 : table.of(r.from) + 1, r.resolved ? 1 : 0)
    seq = r.seq
  }
  const { key, type, id, label, firstSeq, lastSeq, versions } = entity
  const line: EntityLine = { key, type, id, label, firstSeq, lastSeq, versions, strings: table.strings, carried, referenced }
  return JSON.stringify(line)
}

/**
 * How many matches `reltape find` makes of an entity in its session: its carries and references, one per call and
 * place (`where` and entity), as find.ts's `inSession` keeps them: a Rels object listed twice in an answer refers
 * from one place twice. Both lists are in seq order, as the index adds them.
 */
export function matchCount(entity: Entity): number {
  const { carried, referenced } = entity
  // The places of one call, compared one by one as `inSession` does: a call holds a few.
  const places: { where: string; entity: string | undefined }[] = []
  const add = (where: string, from: string | undefined): void => {
    if (!places.some((p) => p.where === where && p.entity === from)) places.push({ where, entity: from })
  }
  let count = 0
  let i = 0
  let j = 0
  while (i < carried.length || j < referenced.length) {
    const seq = Math.min(carried[i]?.seq ?? Infinity, referenced[j]?.seq ?? Infinity)
    places.length = 0
    for (; i < carried.length && carried[i]!.seq === seq; i++) add(carried[i]!.where, entity.key)
    for (; j < referenced.length && referenced[j]!.seq === seq; j++) add(referenced[j]!.where, referenced[j]!.from)
    count += places.length
  }
  return count
}

function parseLine(text: string, file: string): EntityLine {
  const line = JSON.parse(text) as EntityLine
  if (typeof line?.key !== 'string' || !Array.isArray(line.carried) || !Array.isArray(line.referenced) || !Array.isArray(line.strings)) {
    throw new Error(`${file}: an entity line without its appearances`)
  }
  return line
}

/** Calls `carry` for each carry of a line and `reference` for each reference, in the order they were added. */
function walkLine(
  line: EntityLine,
  carry: (seq: number, where: string, version: number) => void,
  reference: (seq: number, field: string, where: string, from: string | undefined, resolved: boolean) => void,
): void {
  const s = line.strings
  const c = line.carried
  let seq = 0
  for (let i = 0; i < c.length; i += 3) carry((seq += c[i]!), s[c[i + 1]!]!, c[i + 2]!)
  const r = line.referenced
  seq = 0
  for (let i = 0; i < r.length; i += 5) reference((seq += r[i]!), s[r[i + 1]!]!, s[r[i + 2]!]!, r[i + 3]! > 0 ? s[r[i + 3]! - 1]! : undefined, r[i + 4] === 1)
}

/** An entity from its line. */
export function entityOfLine(text: string, file: string): Entity {
  const line = parseLine(text, file)
  const carried: EntityCarry[] = []
  const referenced: EntityReference[] = []
  walkLine(
    line,
    (seq, where, version) => carried.push({ seq, where, version }),
    (seq, field, where, from, resolved) => referenced.push(from !== undefined ? { seq, field, where, from, resolved } : { seq, field, where, resolved }),
  )
  const { key, type, id, label, firstSeq, lastSeq, versions } = line
  return { key, type, id, label, firstSeq, lastSeq, versions, carried, referenced }
}

/**
 * The Id of the entity of a line, and `reltape find`'s matches of it in `session` (model/entities.ts
 * `findInEntities`, made straight from the line): the calls that carried it, then those that referred to it.
 */
export function matchesOfLine(text: string, file: string, session: string): { id: string | number; carried: FindMatch[]; referenced: FindMatch[] } {
  const line = parseLine(text, file)
  const carried: FindMatch[] = []
  const referenced: FindMatch[] = []
  walkLine(
    line,
    (seq, where) => carried.push({ session, seq, where, entity: line.key }),
    (seq, _field, where, from) => referenced.push(from !== undefined ? { session, seq, where, entity: from } : { session, seq, where }),
  )
  return { id: line.id, carried, referenced }
}

/** `errors` as the header holds it. */
export function packErrors(errors: Record<string, ErrorCall[]>): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const [code, calls] of Object.entries(errors)) {
    const flat: number[] = []
    let seq = 0
    for (const c of calls) {
      flat.push(c.seq - seq, c.where === 'Error.Code' ? 1 : 0)
      seq = c.seq
    }
    out[code] = flat
  }
  return out
}

export function unpackErrors(errors: Record<string, number[]>): Record<string, ErrorCall[]> {
  const out: Record<string, ErrorCall[]> = {}
  for (const [code, flat] of Object.entries(errors)) out[code] = unpackErrorCalls(flat)
  return out
}

export function unpackErrorCalls(flat: readonly number[]): ErrorCall[] {
  const calls: ErrorCall[] = []
  let seq = 0
  for (let i = 0; i < flat.length; i += 2) {
    seq += flat[i]!
    calls.push({ seq, where: flat[i + 1] === 1 ? 'Error.Code' : 'Error' })
  }
  return calls
}

/**
 * An index file open for reading: its header, and its lines read through the same opening, so that a newer index
 * renamed over it meanwhile (by another process) is never read with this one's directory.
 */
export type EntitiesFile = {
  header: EntitiesHeader
  /** Where the entity lines start. */
  bodyAt: number
  /** The lines of the entities at `indexes` of the directory, as text; null when the file does not hold them. */
  lines(indexes: readonly number[]): Promise<string[] | null>
  /** Every entity line from the first, in order. */
  allLines(): AsyncIterable<string>
  close(): Promise<void>
}

/** Opens an index file and reads its header; null when there is none, or it is not this format (then it is rebuilt). */
export async function openEntitiesFile(file: string): Promise<EntitiesFile | null> {
  let handle: FileHandle | undefined
  try {
    handle = await open(file, 'r')
    const head = await readHeader(handle)
    if (!head) {
      await handle.close()
      return null
    }
    const h = handle
    return {
      ...head,
      lines: (indexes) => readLines(h, head.bodyAt, head.header, indexes),
      allLines: () => createInterface({ input: h.createReadStream({ encoding: 'utf8', start: head.bodyAt, autoClose: false }), crlfDelay: Infinity }),
      close: () => h.close(),
    }
  } catch {
    await handle?.close().catch(() => undefined)
    return null // missing, torn or from another version: a cache, rebuilt
  }
}

async function readHeader(handle: FileHandle): Promise<{ header: EntitiesHeader; bodyAt: number } | null> {
  const chunks: Buffer[] = []
  let size = 0
  for (;;) {
    const chunk = Buffer.allocUnsafe(size === 0 ? 64 * 1024 : Math.min(size, 16 << 20))
    const { bytesRead } = await handle.read(chunk, 0, chunk.length, size)
    if (bytesRead === 0) return null // no line end: torn
    const got = chunk.subarray(0, bytesRead)
    const nl = got.indexOf(0x0a)
    if (nl >= 0) {
      chunks.push(got.subarray(0, nl))
      const header = JSON.parse(Buffer.concat(chunks).toString('utf8')) as EntitiesHeader
      if (header?.format !== ENTITIES_FORMAT || !Array.isArray(header.keys) || !Array.isArray(header.offsets) || header.keys.length !== header.offsets.length) return null
      return { header, bodyAt: size + nl + 1 }
    }
    chunks.push(got)
    size += bytesRead
  }
}

async function readLines(handle: FileHandle, bodyAt: number, header: EntitiesHeader, indexes: readonly number[]): Promise<string[] | null> {
  try {
    const size = (await handle.stat()).size
    const out: string[] = []
    for (const i of indexes) {
      const start = bodyAt + header.offsets[i]!
      const end = i + 1 < header.offsets.length ? bodyAt + header.offsets[i + 1]! - 1 : size - 1 // without the line's end
      if (end < start || end > size) return null
      const buffer = Buffer.allocUnsafe(end - start)
      if ((await readFully(handle, buffer, start)) < buffer.length) return null
      out.push(buffer.toString('utf8'))
    }
    return out
  } catch {
    return null
  }
}
