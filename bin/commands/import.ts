import { listOption, stringOption, dirOption, type Command } from '../command.js'
import { importHar } from '../../store/har-import.js'
import { sessionsDir } from '../../store/paths.js'
import { writeImportNotes } from '../../viewer/import-notes.js'

/** Warnings shown on screen before "… and N more" (`--json` lists them all). */
const SHOWN_WARNINGS = 20

export const importCommand: Command = {
  name: 'import',
  summary: 'make a session from a HAR file (DevTools, Firefox, Playwright .har or .zip, mitmproxy, HTTP Toolkit, …)',
  args: 'FILE',
  positionals: { min: 1, max: 1 },
  options: {
    ...dirOption,
    session: { type: 'string', valueName: 'NAME', description: "the new session's name (default: the file's name without .har/.zip)" },
    all: { type: 'boolean', description: 'import every entry, not only the API traffic (excludes still apply)' },
    include: { type: 'string', multiple: true, valueName: 'GLOB', description: 'also import host/path matching GLOB (a leading / matches the path only)' },
    exclude: { type: 'string', multiple: true, valueName: 'GLOB', description: 'never import host/path matching GLOB' },
    redact: { type: 'boolean', description: 'store tokens as <identity-N>, as record --redact does' },
    json: { type: 'boolean', description: 'print { "session", "entries", "exchanges", "leftOut", "warnings": [string] }' },
  },
  details: `
FILE is a .har, a Playwright HAR .zip (har.har and its body files), or - for standard input.
The same filter as \`reltape record\` applies: API paths, JSON requests and responses, CORS preflights,
unless --all. Every entry becomes an exchange or is counted as left out. A body the HAR declares but does
not hold is stored as omitted (its declared size, no bytes), never invented. An invalid file writes nothing.

Examples:
  reltape import ~/Downloads/app.example.har --session login-bug
  reltape import trace.zip --all --exclude '*.googleapis.com'`,
  async run({ values, positionals }) {
    const file = positionals[0]!
    const dir = sessionsDir(stringOption(values, 'dir'))
    const result = await importHar(file, {
      dir,
      session: stringOption(values, 'session'),
      filter: { all: values.all === true, include: listOption(values, 'include'), exclude: listOption(values, 'exclude') },
      redact: values.redact === true,
    })
    // The warnings stay with the session (a hidden sidecar) for the viewer to show; the session is there either way.
    try {
      writeImportNotes(dir, result.session, result.file, result.warnings)
    } catch (e) {
      console.error(`note: the import's warnings could not be kept for the viewer: ${(e as Error).message}`)
    }
    if (values.json) {
      const { session, entries, exchanges, leftOut, warnings } = result
      console.log(JSON.stringify({ session, entries, exchanges, leftOut, warnings }, null, 2))
      return 0
    }
    console.log(`imported ${file === '-' ? 'standard input' : file} as session "${result.session}" (${result.file})`)
    console.log(
      `entries read: ${result.entries}, exchanges written: ${result.exchanges}, left out by the filter: ${result.leftOut}, warnings: ${result.warnings.length}`,
    )
    for (const w of result.warnings.slice(0, SHOWN_WARNINGS)) console.log(`  warning: ${w}`)
    if (result.warnings.length > SHOWN_WARNINGS) console.log(`  … and ${result.warnings.length - SHOWN_WARNINGS} more (--json lists them all)`)
    return 0
  },
}
