import { sessionsDir } from '../../store/paths.js'
import { diffOne, diffSessions, type SessionDiff } from '../../store/session-diff.js'
import { SessionStore } from '../../store/store.js'
import { dirOption, stringOption, UsageError, type Command } from '../command.js'
import { callLines, comparisonIgnore, ignoreFieldOption, summaryLine } from '../diff-output.js'

/** `SESSION#SEQ` names one exchange; anything else a whole session. */
function parseRef(ref: string): { session: string; seq: number | null } {
  const m = /^(.*)#(\d+)$/.exec(ref)
  return m ? { session: m[1]!, seq: Number(m[2]) } : { session: ref, seq: null }
}

export const diffCommand: Command = {
  name: 'diff',
  summary: 'compare two sessions (or two exchanges) call by call: status, OK, Error, Result paths, Rels entities',
  args: 'A B',
  positionals: { min: 2, max: 2 },
  options: {
    ...dirOption,
    json: { type: 'boolean', description: 'print { equal, unchanged, calls: [{ key, a, b, changes: [{ path, kind, a, b }] }] }' },
    ...ignoreFieldOption,
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
    const ignore = comparisonIgnore(values, dir)
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
    else {
      for (const call of diff.calls) for (const line of callLines(call)) console.log(line)
      console.log(summaryLine(diff))
    }
    return diff.equal ? 0 : 1
  },
}
