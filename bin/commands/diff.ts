import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import type { Change } from '../../model/diff.js'
import { parseFieldPath, type FieldPath } from '../../model/match.js'
import { sessionsDir } from '../../store/paths.js'
import { DEFAULT_KEY_FIELDS } from '../../store/request-key.js'
import { diffOne, diffSessions, type SessionDiff } from '../../store/session-diff.js'
import { SessionStore } from '../../store/store.js'
import { dirOption, listOption, stringOption, UsageError, type Command } from '../command.js'

/** `SESSION#SEQ` names one exchange; anything else a whole session. */
function parseRef(ref: string): { session: string; seq: number | null } {
  const m = /^(.*)#(\d+)$/.exec(ref)
  return m ? { session: m[1]!, seq: Number(m[2]) } : { session: ref, seq: null }
}

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

function show(v: unknown): string {
  const text = JSON.stringify(v) ?? 'undefined'
  return text.length > 80 ? `${text.slice(0, 77)}…` : text
}

function changeLine(c: Change): string {
  if (c.kind === 'changed') return `  changed  ${c.path}: ${show(c.a)} → ${show(c.b)}`
  if (c.kind === 'added') return `  added    ${c.path}: ${show(c.b)}`
  return `  removed  ${c.path}: ${show(c.a)}`
}

function printHuman(diff: SessionDiff): void {
  let onlyA = 0
  let onlyB = 0
  for (const call of diff.calls) {
    if (call.b === null) {
      onlyA++
      console.log(`only in A: ${call.key} (A #${call.a})`)
    } else if (call.a === null) {
      onlyB++
      console.log(`only in B: ${call.key} (B #${call.b})`)
    } else {
      console.log(`${call.key} (A #${call.a}, B #${call.b})`)
      for (const c of call.changes) console.log(changeLine(c))
    }
  }
  const changed = diff.calls.length - onlyA - onlyB
  console.log(`${diff.calls.length ? '\n' : ''}${diff.unchanged} call(s) unchanged, ${changed} changed, ${onlyA} only in A, ${onlyB} only in B`)
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two sessions (or two exchanges) call by call: status, OK, Error, Result paths, Rels entities',
  args: 'A B',
  positionals: { min: 2, max: 2 },
  options: {
    ...dirOption,
    json: { type: 'boolean', description: 'print { equal, unchanged, calls: [{ key, a, b, changes: [{ path, kind, a, b }] }] }' },
    'ignore-field': {
      type: 'string',
      multiple: true,
      valueName: 'PATH',
      description: 'a field left out of the comparison, besides LocalId and the config\'s "ignore" (replay\'s path syntax: *.CreatedAt, Items[].LocalId)',
    },
  },
  details: `
A and B are sessions (a name in the sessions directory or a path to a session file), or one exchange each
(SESSION#SEQ). Calls are paired by replay key and occurrence: the 2nd identical call in A with the 2nd in B.
Arrays of objects with an Id are compared by Id; Rels by type and Id (Rels.Clients#11.Name).
Exit status: 0 equal, 1 different, 2 usage error (as diff(1)).

Examples:
  reltape diff yesterday today
  reltape diff checkout#12 checkout-rerun#12 --json
  reltape diff a b --ignore-field '*.CreatedAt' --ignore-field 'Rels.*.SeenAt'`,
  async run({ values, positionals }) {
    const dir = sessionsDir(stringOption(values, 'dir'))
    const [refA, refB] = positionals.map(parseRef) as [ReturnType<typeof parseRef>, ReturnType<typeof parseRef>]
    if ((refA.seq === null) !== (refB.seq === null)) throw new UsageError('compare a session with a session (A B), or an exchange with an exchange (A#SEQ B#SEQ), not one of each')
    const config = configIgnore(dir)
    const ignore = [
      ...paths([...DEFAULT_KEY_FIELDS], 'default'),
      ...paths(listOption(values, 'ignore-field'), '--ignore-field'),
      ...(config ? paths(config.paths, `${config.file}: ignore`) : []),
    ]
    const store = new SessionStore(dir)
    const [a, b] = [await store.reader(refA.session), await store.reader(refB.session)]
    let diff: SessionDiff
    if (refA.seq !== null && refB.seq !== null) {
      for (const [ref, reader] of [[refA, a], [refB, b]] as const)
        if (!reader.row(ref.seq!)) throw new UsageError(`${ref.session} has no exchange ${ref.seq} (it holds ${reader.count})`)
      const row = a.row(refA.seq)!.summary
      diff = diffOne(`${row.method.toUpperCase()} ${row.path.split('?')[0]}`, await a.exchange(refA.seq), await b.exchange(refB.seq), ignore)
    } else {
      diff = await diffSessions(a, b, ignore)
    }
    if (values.json) console.log(JSON.stringify(diff, null, 2))
    else printHuman(diff)
    return diff.equal ? 0 : 1
  },
}
