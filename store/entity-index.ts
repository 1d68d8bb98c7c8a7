/**
 * A session's entity index on disk: `.<name>.entities` beside the session index, a cache of `EntityIndex`
 * (model/entities.ts) for the session's file and journal as they were (size, mtime, inode). A header line, then one
 * line per entity; never a copy of the bodies (versions keep hashes and where they were seen). Rebuilt by streaming
 * the session's exchanges through the SessionReader when it is missing or stale; when the session only grew (a
 * journal followed, a recorder's stop), only the new exchanges are read.
 */
import { dirname, join } from 'node:path'
import { EntityIndex, hashText, type Entity, type EntityConfig } from '../model/entities.js'
import { ENTITIES_FORMAT, entityLine, entityOfLine, matchCount, openEntitiesFile, packErrors, unpackErrors, type EntitiesHeader } from './entity-file.js'
import type { SessionPaths } from './paths.js'
import { replaceFile } from './private-file.js'
import { writeFully } from './read-write-fully.js'
import type { FileStamp } from './session-index.js'
import { sameStamp, stampOf, type SessionReader } from './session-reader.js'

/** `.<name>.entities`, beside `.<name>.index`. */
export function entitiesPath(paths: SessionPaths): string {
  return join(dirname(paths.index), `.${paths.name}.entities`)
}

export function configHash(config: EntityConfig | undefined): string {
  const rels = Object.entries(config?.rels ?? {}).sort()
  const entities = Object.entries(config?.entities ?? {}).sort()
  return hashText(JSON.stringify({ rels, entities }))
}

/**
 * The whole index on disk: for a viewer that shows every entity, or a session to bring up to date. Null when there
 * is none, or it was built with another config (`config`, see configHash): its lines are then not read.
 */
async function readEntitiesFile(file: string, config: string): Promise<{ header: EntitiesHeader; entities: Entity[] } | null> {
  const opened = await openEntitiesFile(file)
  if (!opened) return null
  try {
    if (opened.header.config !== config) return null
    const entities: Entity[] = []
    for await (const line of opened.allLines()) if (line !== '') entities.push(entityOfLine(line, file))
    if (entities.length !== opened.header.entities) return null
    return { header: opened.header, entities }
  } catch {
    return null // torn or from another version: a cache, rebuilt
  } finally {
    await opened.close()
  }
}

/** Writes the index (best effort: a read-only directory only costs the next reader a rebuild). */
async function writeEntitiesFile(file: string, about: Omit<EntitiesHeader, 'format' | 'entities' | 'errors' | 'keys' | 'offsets' | 'matches'>, index: EntityIndex): Promise<void> {
  const lines: string[] = []
  const keys: string[] = []
  const offsets: number[] = []
  const matches: number[] = []
  let at = 0
  for (const e of index.entities()) {
    const line = entityLine(e) + '\n'
    keys.push(e.key)
    offsets.push(at)
    matches.push(matchCount(e))
    lines.push(line)
    at += Buffer.byteLength(line)
  }
  const header: EntitiesHeader = { format: ENTITIES_FORMAT, ...about, entities: keys.length, errors: packErrors(index.errors()), keys, offsets, matches }
  // Private, and never written through a planted link (entity labels are recorded data); a cache, so not synced.
  await replaceFile(
    file,
    async (handle) => {
      let written = 0
      let chunk = JSON.stringify(header) + '\n'
      for (const line of lines) {
        chunk += line
        if (chunk.length > 1 << 20) {
          written += await writeFully(handle, Buffer.from(chunk), written)
          chunk = ''
        }
      }
      await writeFully(handle, Buffer.from(chunk), written)
    },
    { durable: false },
  ).catch(() => undefined)
}

/** An entity index and what it describes. */
export type SessionEntities = {
  index: EntityIndex
  file: FileStamp | null
  journal: FileStamp | null
}

/** Adds the exchanges past the index's last, a batch of nearby ones per read. */
async function addNewer(reader: SessionReader, index: EntityIndex): Promise<void> {
  const seqs: number[] = []
  for (const row of reader.rows) if (row.summary.seq > index.lastSeq) seqs.push(row.summary.seq)
  for (let i = 0; i < seqs.length; i += ADD_BATCH) for (const e of await reader.exchangesOf(seqs.slice(i, i + ADD_BATCH))) index.add(e)
}

const ADD_BATCH = 256

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
    const onDisk = await readEntitiesFile(path, hash)
    if (onDisk) {
      const { header } = onDisk
      const index = EntityIndex.fromJSON({ lastSeq: header.lastSeq, exchanges: header.exchanges, entities: onDisk.entities, errors: unpackErrors(header.errors) }, config)
      if (fresh(header) && header.lastSeq >= reader.maxSeq) return { index, file, journal }
      if (onlyGrew(reader, header, file)) base = { index, file: header.file, journal: header.journal }
    }
  }
  const index = base?.index ?? new EntityIndex(config)
  await addNewer(reader, index)
  await writeEntitiesFile(path, { config: hash, file, journal, lastSeq: index.lastSeq, exchanges: index.exchanges }, index)
  return { index, file, journal }
}
