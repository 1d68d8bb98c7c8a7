/**
 * What `reltape diff` and `reltape verify` share on the command line: the fields left out of a comparison (the
 * defaults, `--ignore-field`, reltape.config.json's `"ignore"`) and the human output, a call and its changes at a time.
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Change } from '../model/diff.js'
import { parseFieldPath, type FieldPath } from '../model/match.js'
import { DEFAULT_KEY_FIELDS } from '../store/request-key.js'
import type { CallDiff, SessionDiff } from '../store/session-diff.js'
import { listOption, UsageError, type ParsedArgs } from './command.js'

/** The `ignore` paths of reltape.config.json (working directory first, else beside the sessions directory). */
function configIgnore(dir: string): { file: string; paths: string[] } | null {
  for (const file of [join(process.cwd(), 'reltape.config.json'), join(dirname(resolve(dir)), 'reltape.config.json')]) {
    if (!existsSync(file)) continue
    let value: unknown
    try {
      value = JSON.parse(readFileSync(file, 'utf8'))
    } catch (e) {
      throw new UsageError(`${file}: not valid JSON (${(e as Error).message})`)
    }
    const ignore = (value as { ignore?: unknown })?.ignore
    if (ignore === undefined) return null
    if (!Array.isArray(ignore) || !ignore.every((p) => typeof p === 'string'))
      throw new UsageError(`${file}: "ignore" must be a list of field paths, e.g. ["*.CreatedAt", "Rels.*.SeenAt"]`)
    return { file, paths: ignore as string[] }
  }
  return null
}

function paths(list: string[], where: string): FieldPath[] {
  return list.map((p) => {
    try {
      return parseFieldPath(p)
    } catch (e) {
      throw new UsageError(`${where}: ${(e as Error).message}`)
    }
  })
}

/** The `--ignore-field` option both commands take. */
export const ignoreFieldOption = {
  'ignore-field': {
    type: 'string',
    multiple: true,
    valueName: 'PATH',
    description: 'a field left out of the comparison, besides LocalId and the config\'s "ignore" (replay\'s path syntax: *.CreatedAt, Items[].LocalId)',
  },
} as const

/** The fields a comparison leaves out: LocalId, `--ignore-field`, then the config's `"ignore"`. */
export function comparisonIgnore(values: ParsedArgs['values'], dir: string): FieldPath[] {
  const config = configIgnore(dir)
  return [
    ...paths([...DEFAULT_KEY_FIELDS], 'default'),
    ...paths(listOption(values, 'ignore-field'), '--ignore-field'),
    ...(config ? paths(config.paths, `${config.file}: ignore`) : []),
  ]
}

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? 'undefined'
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

function changeLine(c: Change): string {
  if (c.kind === 'changed') return `  changed  ${c.path}: ${show(c.a)} → ${show(c.b)}`
  if (c.kind === 'added') return `  added    ${c.path}: ${show(c.b)}`
  return `  removed  ${c.path}: ${show(c.a)}`
}

/** The lines of one call that differs or has no partner; none for a call without changes. */
export function callLines(call: CallDiff): string[] {
  if (call.b === null) return [`only in A: ${call.key} (A #${call.a})`]
  if (call.a === null) return [`only in B: ${call.key} (B #${call.b})`]
  if (!call.changes.length) return []
  return [`${call.key} (A #${call.a}, B #${call.b})`, ...call.changes.map(changeLine)]
}

/** The closing line: how many calls were unchanged, changed, or on one side only. */
export function summaryLine(diff: SessionDiff): string {
  const onlyA = diff.calls.filter((c) => c.b === null).length
  const onlyB = diff.calls.filter((c) => c.a === null).length
  const changed = diff.calls.length - onlyA - onlyB
  return `${diff.calls.length ? '\n' : ''}${diff.unchanged} call(s) unchanged, ${changed} changed, ${onlyA} only in A, ${onlyB} only in B`
}
