/**
 * `reltape.config.json`: the viewer reads its `rels` override table (field name → Rels type)
 * from the working directory, else from the sessions directory's parent.
 */
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import type { RelsConfig } from '../model/rels.js'
import { ViewerError } from './errors.js'

export const CONFIG_FILE = 'reltape.config.json'

/** Where the config is looked for, first match wins. */
export function configCandidates(sessionsDir: string, cwd = process.cwd()): string[] {
  const list = [join(resolve(cwd), CONFIG_FILE), join(dirname(resolve(sessionsDir)), CONFIG_FILE)]
  return [...new Set(list)]
}

/** Checks a parsed config; throws CONFIG_INVALID naming the file and the field. */
export function checkRelsConfig(value: unknown, file: string): Required<RelsConfig> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ViewerError('CONFIG_INVALID', { file, problem: 'expected a JSON object' })
  const rels = (value as { rels?: unknown }).rels
  if (rels === undefined) return { rels: {} }
  if (typeof rels !== 'object' || rels === null || Array.isArray(rels))
    throw new ViewerError('CONFIG_INVALID', { file, problem: '"rels" must be an object of field name → Rels type, e.g. {"AvatarId": "Files"}' })
  const out: Record<string, string> = {}
  for (const [field, type] of Object.entries(rels)) {
    if (typeof type !== 'string')
      throw new ViewerError('CONFIG_INVALID', { file, problem: `rels.${field} must be a Rels type name (a string), or "" for "not a reference"` })
    out[field] = type
  }
  return { rels: out }
}

/** Loads the Rels config; no file means no overrides. */
export async function loadRelsConfig(sessionsDir: string, cwd?: string): Promise<Required<RelsConfig>> {
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
