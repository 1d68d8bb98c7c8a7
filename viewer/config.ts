/**
 * `reltape.config.json`: the viewer reads its `rels` override table (field name → Rels type) and its `entities`
 * table (API method → Result type),
 * from the working directory, else from the sessions directory's parent.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { EntityConfig } from '../model/entities.js'
import type { RelsConfig } from '../model/rels.js'
import { ViewerError } from './errors.js'

export const CONFIG_FILE = 'reltape.config.json'

/** Where the config is looked for, first match wins. */
export function configCandidates(sessionsDir: string, cwd = process.cwd()): string[] {
  const list = [join(resolve(cwd), CONFIG_FILE), join(dirname(resolve(sessionsDir)), CONFIG_FILE)]
  return [...new Set(list)]
}

/** Checks a parsed config; throws CONFIG_INVALID naming the file and the field. */
export function checkRelsConfig(value: unknown, file: string): Required<RelsConfig> & EntityConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ViewerError('CONFIG_INVALID', { file, problem: 'expected a JSON object' })
  const entities = checkEntitiesTable((value as { entities?: unknown }).entities, file)
  const rels = (value as { rels?: unknown }).rels
  if (rels === undefined) return { rels: {}, ...entities }
  if (typeof rels !== 'object' || rels === null || Array.isArray(rels))
    throw new ViewerError('CONFIG_INVALID', { file, problem: '"rels" must be an object of field name → Rels type, e.g. {"AvatarId": "Files"}' })
  const out: Record<string, string> = {}
  for (const [field, type] of Object.entries(rels)) {
    if (typeof type !== 'string')
      throw new ViewerError('CONFIG_INVALID', { file, problem: `rels.${field} must be a Rels type name (a string), or "" for "not a reference"` })
    out[field] = type
  }
  return { rels: out, ...entities }
}

/** The `entities` table (API method → Result type, model/entities.ts), when the config has one. */
function checkEntitiesTable(table: unknown, file: string): { entities?: Record<string, string> } {
  if (table === undefined) return {}
  if (typeof table !== 'object' || table === null || Array.isArray(table))
    throw new ViewerError('CONFIG_INVALID', { file, problem: '"entities" must be an object of API method → Result type, e.g. {"chats/history": "Messages"}' })
  const out: Record<string, string> = {}
  for (const [method, type] of Object.entries(table)) {
    if (typeof type !== 'string')
      throw new ViewerError('CONFIG_INVALID', { file, problem: `entities.${method} must be a type name (a string), or "" for "not entities"` })
    out[method] = type
  }
  return { entities: out }
}

/** Loads the Rels config; no file means no overrides. */
export async function loadRelsConfig(sessionsDir: string, cwd?: string): Promise<Required<RelsConfig> & EntityConfig> {
  for (const file of configCandidates(sessionsDir, cwd)) {
    if (!existsSync(file)) continue
    let value: unknown
    try {
      value = JSON.parse(await readFile(file, 'utf8'))
    } catch (e) {
      throw new ViewerError('CONFIG_INVALID', { file, problem: `not valid JSON (${(e as Error).message})` })
    }
    return checkRelsConfig(value, file)
  }
  return { rels: {} }
}
