/**
 * A session's entity index on disk: `.<name>.entities` beside the session index, a cache of `EntityIndex`
 * (model/entities.ts) for the session's file and journal as they were (size, mtime, inode). A header line, then one
 * line per entity; never a copy of the bodies (versions keep hashes and where they were seen). Rebuilt by streaming
 * the session's exchanges through the SessionReader when it is missing or stale; when the session only grew (a
 * journal followed, a recorder's stop), only the new exchanges are read.
 */
import { createReadStream } from 'node:fs'
import { open, rename, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { EntityIndex, hashText, type Entity, type EntityConfig } from '../model/entities.js'
import type { SessionPaths } from './paths.js'
import { PRIVATE_FILE_MODE } from './private-file.js'
import type { FileStamp } from './session-index.js'
import { sameStamp, stampOf, type SessionReader } from './session-reader.js'

export const ENTITIES_FORMAT = 'reltape.entities/1'

/** The first line of `.<name>.entities`. */
type EntitiesHeader = {
  format: typeof ENTITIES_FORMAT
  /** A hash of the config the index was built with: another config means another index. */
  config: string
  file: FileStamp | null
  journal: FileStamp | null
  lastSeq: number
  exchanges: number
  entities: number
}

/** `.<name>.entities`, beside `.<name>.index`. */
export function entitiesPath(paths: SessionPaths): string {
  return join(dirname(paths.index), `.${paths.name}.entities`)
}

function configHash(config: EntityConfig | undefined): string {
  const rels = Object.entries(config?.rels ?? {}).sort()
  const entities = Object.entries(config?.entities ?? {}).sort()
  return hashText(JSON.stringify({ rels, entities }))
}

async function readEntitiesFile(file: string): Promise<{ header: EntitiesHeader; entities: Entity[] } | null> {
  let stream
  try {
    stream = createReadStream(file, { encoding: 'utf8' })
    const lines = createInterface({ input: stream, crlfDelay: Infinity })
    let header: EntitiesHeader | null = null
    const entities: Entity[] = []
    for await (const line of lines) {
      if (header === null) {
        header = JSON.parse(line) as EntitiesHeader
        if (header.format !== ENTITIES_FORMAT) return null
      } else if (line !== '') entities.push(JSON.parse(line) as Entity)
    }
    if (header === null || entities.length !== header.entities) return null
    return { header, entities }
  } catch {
    return null // missing, torn or from another version: a cache, rebuilt
  } finally {
    stream?.destroy()
  }
}

/** Writes the index a line at a time (best effort: a read-only directory only costs the next reader a rebuild). */
async function writeEntitiesFile(file: string, header: EntitiesHeader, index: EntityIndex): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`
  let handle
  try {
    // Exclusive and private: entity labels are recorded data; `wx` never writes through a planted link.
    handle = await open(tmp, 'wx', PRIVATE_FILE_MODE)
    let chunk = JSON.stringify(header) + '\n'
    for (const e of index.entities()) {
      chunk += JSON.stringify(e) + '\n'
      if (chunk.length > 1 << 20) {
        await handle.write(chunk)
        chunk = ''
      }
    }
    await handle.write(chunk)
    await handle.close()
    handle = undefined
    await rename(tmp, file)
  } catch {
    await handle?.close().catch(() => undefined)
    await unlink(tmp).catch(() => undefined)
  }
}

/** An entity index and what it describes. */
export type SessionEntities = {
  index: EntityIndex
  file: FileStamp | null
  journal: FileStamp | null
}

async function addNewer(reader: SessionReader, index: EntityIndex): Promise<void> {
  for (const row of reader.rows) {
    if (row.summary.seq <= index.lastSeq) continue
    index.add(await reader.exchange(row.summary.seq))
  }
}

/** True when the session only grew since `known`: the same file or one appended to, and the exchanges indexed still there. */
function onlyGrew(reader: SessionReader, known: { file: FileStamp | null; lastSeq: number; exchanges: number }, file: FileStamp | null): boolean {
  // The same file, or that file with bytes appended (a rewrite in place keeps the inode but not the size).
  if (known.file && !sameStamp(known.file, file) && (!file || file.ino !== known.file.ino || file.size <= known.file.size)) return false
  let before = 0
  for (const row of reader.rows) if (row.summary.seq <= known.lastSeq) before++
  return before === known.exchanges
}

/**
 * The entity index of a session as the reader sees it: `previous` (held in memory) or the file on disk when current,
 * else brought up to date (only the new exchanges when the session only grew) or rebuilt, and written back.
 */
export async function loadEntityIndex(reader: SessionReader, config?: EntityConfig, previous?: SessionEntities): Promise<SessionEntities> {
  const file = reader.fileStamp
  const journal = await stampOf(reader.paths.journal)
  const path = entitiesPath(reader.paths)
  const hash = configHash(config)
  const fresh = (p: { file: FileStamp | null; journal: FileStamp | null }) => sameStamp(p.file, file) && sameStamp(p.journal, journal)

  let base: SessionEntities | null = null
  if (previous && onlyGrew(reader, { file: previous.file, lastSeq: previous.index.lastSeq, exchanges: previous.index.exchanges }, file)) {
    if (fresh(previous) && previous.index.lastSeq >= reader.maxSeq) return previous
    base = previous
  } else {
    const onDisk = await readEntitiesFile(path)
    if (onDisk && onDisk.header.config === hash) {
      const { header } = onDisk
      const index = EntityIndex.fromJSON({ lastSeq: header.lastSeq, exchanges: header.exchanges, entities: onDisk.entities }, config)
      if (fresh(header) && header.lastSeq >= reader.maxSeq) return { index, file, journal }
      if (onlyGrew(reader, header, file)) base = { index, file: header.file, journal: header.journal }
    }
  }
  const index = base?.index ?? new EntityIndex(config)
  await addNewer(reader, index)
  const header: EntitiesHeader = { format: ENTITIES_FORMAT, config: hash, file, journal, lastSeq: index.lastSeq, exchanges: index.exchanges, entities: index.size }
  await writeEntitiesFile(path, header, index)
  return { index, file, journal }
}
