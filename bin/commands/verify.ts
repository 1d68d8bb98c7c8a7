import { createInterface } from 'node:readline/promises'
import { ReltapeError } from '../../model/errors.js'
import { sessionsDir } from '../../store/paths.js'
import { resolveVerifyOptions } from '../../verify/options.js'
import { describePlan, planVerify } from '../../verify/plan.js'
import { runVerify } from '../../verify/run.js'
import { dirOption, intOption, listOption, stringOption, UsageError, type Command, type ParsedArgs } from '../command.js'
import { callLines, comparisonIgnore, ignoreFieldOption, summaryLine } from '../diff-output.js'

/** `--token ALIAS=TOKEN`, repeatable, as a record. */
function tokensOf(values: ParsedArgs['values']): Record<string, string> {
  const out: Record<string, string> = {}
  for (const raw of listOption(values, 'token')) {
    const eq = raw.indexOf('=')
    if (eq <= 0 || eq === raw.length - 1) throw new UsageError(`--token takes ALIAS=TOKEN (such as identity-1=<token>), not ${JSON.stringify(raw.length > 24 ? `${raw.slice(0, 24)}…` : raw)}`)
    const alias = raw.slice(0, eq)
    if (alias in out) throw new UsageError(`--token names ${alias} twice`)
    out[alias] = raw.slice(eq + 1)
  }
  return out
}

/** Asks on the terminal; anything but y or yes is a no. */
async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr })
  try {
    return /^\s*y(es)?\s*$/i.test(await rl.question(question))
  } finally {
    rl.close()
  }
}

export const verifyCommand: Command = {
  name: 'verify',
  summary: "send a session's requests again to the live API and show, call by call, where its answers drifted",
  args: 'SESSION',
  positionals: { min: 1, max: 1 },
  options: {
    ...dirOption,
    upstream: { type: 'string', valueName: 'URL', description: 'the live API origin every call goes to, e.g. https://dev.example (required)' },
    'upstream-ca': { type: 'string', multiple: true, valueName: 'FILE', description: "a PEM CA to trust upstream, besides the system's and reltape's own" },
    'insecure-upstream': { type: 'boolean', description: "don't verify the upstream's TLS certificate" },
    token: {
      type: 'string',
      multiple: true,
      valueName: 'ALIAS=TOKEN',
      description: 'the live token of an identity (identity-1=…); needed for a session recorded with --redact',
    },
    save: { type: 'string', valueName: 'NAME', description: 'save the live exchanges as a new session' },
    concurrency: { type: 'string', valueName: 'N', description: 'calls in flight at once, still started in seq order (default 1)' },
    yes: { type: 'boolean', short: 'y', description: 'send without asking' },
    json: { type: 'boolean', description: 'print { equal, unchanged, calls, sent, skipped, saved } (calls as reltape diff --json)' },
    ...ignoreFieldOption,
  },
  details: `
Each recorded request is sent again in seq order to --upstream (its path and query kept), with its identity's
recorded token or the one given with --token, and a fresh LocalId where it had one. Each live answer is compared
with the recorded one as \`reltape diff\` compares them (A: the recording, B: the live API). Before sending, it says
how many calls go where and asks; without a terminal it sends nothing unless --yes is given. The calls are real:
what they do happens on the live API.
Exit status: 0 no drift, 1 drift, 2 usage error or not confirmed.

Examples:
  reltape verify checkout --upstream https://dev.example
  reltape verify checkout-redacted --upstream https://dev.example --token identity-1=$TOKEN --yes --save checkout-today`,
  async run({ values, positionals }) {
    const upstream = stringOption(values, 'upstream')
    if (!upstream) throw new UsageError('reltape verify needs --upstream URL: the live API to send the calls to')
    const dir = sessionsDir(stringOption(values, 'dir'))
    const options = await resolveVerifyOptions({
      session: positionals[0]!,
      dir,
      upstream,
      upstreamCaFiles: listOption(values, 'upstream-ca'),
      insecureUpstream: values['insecure-upstream'] === true,
      tokens: tokensOf(values),
      save: stringOption(values, 'save') ?? null,
      concurrency: intOption(values, 'concurrency', 1, 1, 64),
    })
    // The fields left out of the comparison come from the flags and reltape.config.json exactly as `reltape diff`
    // reads them (and its errors name the flag or the file), not from the library option.
    const plan = await planVerify(Object.freeze({ ...options, ignore: comparisonIgnore(values, dir) }))
    for (const line of describePlan(plan)) console.error(line)
    if (plan.calls.length === 0) {
      console.error('nothing to send')
      if (values.json) console.log(JSON.stringify({ equal: true, unchanged: 0, calls: [], sent: 0, skipped: plan.skipped, saved: null }, null, 2))
      return 0
    }
    if (values.yes !== true) {
      if (!process.stdin.isTTY) throw new ReltapeError('VERIFY_NOT_CONFIRMED', { why: 'standard input is not a terminal to confirm on; give --yes to send without asking' })
      if (!(await confirm(`Send ${plan.calls.length} call(s) to ${options.upstream}? [y/N] `))) throw new ReltapeError('VERIFY_NOT_CONFIRMED', { why: 'not confirmed' })
    }
    const human = values.json !== true
    const result = await runVerify(plan, {
      onCall: human ? (call) => callLines(call).forEach((line) => console.log(line)) : undefined,
    })
    if (human) console.log(summaryLine(result))
    else console.log(JSON.stringify(result, null, 2))
    if (result.saved) console.error(`saved the live exchanges as session ${JSON.stringify(result.saved)} in ${dir}`)
    return result.equal ? 0 : 1
  },
}
