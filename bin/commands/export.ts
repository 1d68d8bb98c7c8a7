import { dirOption, stringOption, type Command } from '../command.js'
import { exportHar } from '../../store/har-export.js'
import { sessionsDir } from '../../store/paths.js'
import { SessionStore } from '../../store/store.js'

export const exportCommand: Command = {
  name: 'export',
  summary: "write a session as HAR 1.2 (.har) or a Playwright HAR zip (.zip), for DevTools and Playwright's routeFromHAR",
  args: 'SESSION',
  positionals: { min: 1, max: 1 },
  options: {
    ...dirOption,
    out: { type: 'string', valueName: 'FILE', description: 'where to write: NAME.har, NAME.zip (Playwright layout) or - for standard output (default: ./SESSION.har)' },
    redact: { type: 'boolean', description: 'write tokens as <identity-N>' },
  },
  details: `
SESSION is a name in the sessions directory or a path to a session file.
The file is chosen by its name: .zip writes har.har plus one <sha1>.<ext> file per body, as Playwright
records with content: 'attach'; anything else is one HAR 1.2 document. reltape-only facts (seq, id,
identity alias, transport error code) are kept under "_reltape", which \`reltape import\` reads back.
The HAR holds live tokens unless --redact: it is written readable by you only.

Examples:
  reltape export login-bug --out login-bug.har
  reltape export login-bug --out login-bug.zip      # for page.routeFromHAR('login-bug.zip')`,
  async run({ values, positionals }) {
    const store = new SessionStore(sessionsDir(stringOption(values, 'dir')))
    const reader = await store.reader(positionals[0]!)
    const out = stringOption(values, 'out') ?? `${reader.head.name}.har`
    const result = await exportHar(reader, out, { redact: values.redact === true })
    // With the HAR on standard output, the summary goes to standard error.
    const say = out === '-' ? console.error : console.log
    say(
      `exported ${result.entries} exchange(s) of session "${result.session}" to ${out === '-' ? 'standard output' : out}` +
        (result.format === 'zip' ? ` (har.har and ${result.bodyFiles} body file(s))` : ''),
    )
    return 0
  },
}
