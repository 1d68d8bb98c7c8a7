import { dirOption, intOption, listOption, stringOption, untilStopped, UsageError, type Command } from '../command.js'
import { startReplay } from '../../replay/start-replay.js'

export const replayCommand: Command = {
  name: 'replay',
  summary: 'serve a recorded session as a deterministic API server (never contacts the real one)',
  args: 'SESSION',
  positionals: { min: 1, max: 1 },
  options: {
    ...dirOption,
    port: { type: 'string', valueName: 'PORT', description: 'port to listen on (default 8001; 0 for any free port)' },
    host: { type: 'string', valueName: 'HOST', description: 'address to bind (default 127.0.0.1)' },
    strict: { type: 'boolean', description: 'a request whose recordings ran out is a miss (default: its last recording answers again)' },
    'ignore-field': {
      type: 'string',
      multiple: true,
      valueName: 'PATH',
      description: 'JSON body field left out of matching, e.g. LocalId, Message.LocalId, Items[].LocalId (default LocalId; giving any replaces it)',
    },
    'echo-field': {
      type: 'string',
      multiple: true,
      valueName: 'PATH',
      description: "field whose live value replaces the recorded one in the response (default LocalId; giving any replaces it)",
    },
    'match-identity': { type: 'boolean', description: 'the identity (which token) is part of the match; cookie and header count the same' },
    'match-host': { type: 'boolean', description: 'the host the client addressed is part of the match' },
    latency: { type: 'string', valueName: 'recorded|none', description: 'wait each recording\'s duration before answering (default none)' },
    'allow-origin': {
      type: 'string',
      multiple: true,
      valueName: 'ORIGIN|*',
      description: 'a web origin whose pages may read answers (CORS), besides the recorded origins and loopback pages; * for any',
    },
    'keep-misses': { type: 'string', valueName: 'N', description: 'misses kept with details in the state, the latest ones; older ones are counted (default 1000)' },
    'record-missing': { type: 'boolean', description: 'forward what no recording answers to --upstream, answer it live and record it into the session' },
    refresh: { type: 'boolean', description: 'answer every request live from --upstream; when replay stops, the session is replaced by the live answers (the old one kept as NAME.before-refresh)' },
    upstream: { type: 'string', valueName: 'URL', description: 'with --record-missing or --refresh: the live API origin requests go to, e.g. https://dev.example' },
    'upstream-ca': { type: 'string', multiple: true, valueName: 'FILE', description: "with --record-missing or --refresh: a PEM CA to trust upstream, besides the system's and reltape's own" },
    'insecure-upstream': { type: 'boolean', description: "with --record-missing or --refresh: don't verify the upstream's TLS certificate" },
  },
  details: `
SESSION is a name in the sessions directory, a path to a session file, or a HAR (.har, or a Playwright
.zip) read in memory as \`reltape import\` reads it (API traffic only; nothing is written).
Each request is logged on one line: HIT (which recording) or MISS (why, and the nearest recording).
A miss answers 404 with {"OK": false, "Error": {"Code": "ReplayMiss", ...}} and the header x-reltape: miss.
POST /__reltape/reset rewinds every queue; GET /__reltape/state lists used and unused recordings, the latest
misses and how many there were (missCounts).
Browsers: pages on the recorded origins, on loopback and on --allow-origin get CORS headers; others do not, so a
page open elsewhere cannot read recorded answers. A Host other than loopback, --host or a recorded host gets 421.
--record-missing fills the session's gaps: a request no recording answers (with --strict, also one whose
recordings ran out) goes to --upstream, is answered live and appended to the session (logged LIVE), so the next
replay answers it offline. The session's lock is held until replay stops; an upstream that does not answer gets
502 ReplayUpstreamFailed and nothing is recorded. Without --record-missing, replay never contacts any upstream.
--refresh re-records the session from the live API: every request goes to --upstream and is answered live (logged
LIVE); when replay stops, the new answers replace the session, whose previous file is kept as
NAME.before-refresh.json (see what drifted with \`reltape diff NAME.before-refresh NAME\`). The session's lock is
held meanwhile; when nothing was answered live, the session is left as it was.

Examples:
  reltape replay checkout-flow
  reltape replay ./sessions/checkout-flow.json --port 0 --strict --ignore-field LocalId --ignore-field Meta.Timestamp
  reltape replay checkout-flow --record-missing --upstream https://dev.example
  reltape replay checkout-flow --refresh --upstream https://dev.example`,
  async run({ values, positionals }) {
    const latency = stringOption(values, 'latency') ?? 'none'
    if (latency !== 'recorded' && latency !== 'none') throw new UsageError(`--latency takes "recorded" or "none", not ${JSON.stringify(latency)}`)
    if (values.refresh === true && values['record-missing'] === true) throw new UsageError('give --record-missing or --refresh, not both')
    const ignore = listOption(values, 'ignore-field')
    const echo = listOption(values, 'echo-field')
    const replay = await startReplay({
      session: positionals[0]!,
      dir: stringOption(values, 'dir'),
      port: intOption(values, 'port', 8001),
      host: stringOption(values, 'host') ?? '127.0.0.1',
      strict: values.strict === true,
      ignoreFields: ignore.length ? ignore : undefined,
      echoFields: echo.length ? echo : undefined,
      matchIdentity: values['match-identity'] === true,
      matchHost: values['match-host'] === true,
      latency,
      allowOrigins: listOption(values, 'allow-origin'),
      keepMisses: intOption(values, 'keep-misses', 1000, 0, 10_000_000),
      mode: values.refresh === true ? 'refresh' : values['record-missing'] === true ? 'record-missing' : 'replay',
      upstream: stringOption(values, 'upstream') ?? null,
      upstreamCaFiles: listOption(values, 'upstream-ca'),
      insecureUpstream: values['insecure-upstream'] === true,
      log: (line) => console.log(line),
    })
    // Listen for Ctrl-C before the banner: a script that reads the banner and stops us at once gets a clean stop.
    const stopped = untilStopped()
    const exchanges = replay.exchanges
    console.log(`reltape replay listening on ${replay.url}`)
    console.log(`session: ${replay.source}`)
    const mode = replay.rules.mode
    const filling = mode !== 'replay'
    if (mode === 'refresh') console.log(`refreshing ${exchanges} exchange(s): every request is answered live by ${replay.rules.upstream} and recorded; the session is replaced when replay stops`)
    else console.log(`serving ${exchanges} exchange(s) under ${replay.keys} distinct key(s); ${filling ? `records what is missing from ${replay.rules.upstream}` : 'never contacts any upstream'}`)
    if (replay.rules.insecureUpstream) console.error('WARNING: --insecure-upstream: upstream TLS certificates are NOT verified')
    for (const rule of replay.describeRules()) console.log(`  ${rule}`)
    console.log('control: POST /__reltape/reset, GET /__reltape/state; Ctrl-C to stop')
    await stopped
    const unused = replay.unused()
    console.log(`stopping: ${replay.missCounts().total} miss(es), ${unused.length} recording(s) never used${filling ? `, ${replay.recorded().length} exchange(s) recorded` : ''}`)
    await replay.close()
    return 0
  },
}
