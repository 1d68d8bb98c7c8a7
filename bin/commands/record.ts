import { dirOption, intOption, listOption, stringOption, untilStopped, UsageError, type Command, type ParsedArgs } from '../command.js'
import { muteMockttpLogs } from '../mockttp-noise.js'
import { BROWSER_HOUSEKEEPING, DEFAULT_HOST, DEFAULT_MAX_BODY, DEFAULT_PORT, DEFAULT_UPSTREAM_TIMEOUT_MS, startRecorder, type Recorder, type RecorderSummary } from '../../recorder/index.js'
import { launchChromium } from '../../recorder/launch.js'
import { toolName } from '../../store/version.js'

/** `50MB`, `512KB`, `1048576` → bytes. */
export function parseSize(raw: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|k|mb|m|gb|g)?$/i.exec(raw.trim())
  if (!m) throw new UsageError(`--${flag} takes a size such as 50MB, 512KB or 1048576, not ${JSON.stringify(raw)}`)
  const unit = (m[2] ?? 'b').toLowerCase()[0]
  const n = Number(m[1]) * (unit === 'g' ? 1024 ** 3 : unit === 'm' ? 1024 ** 2 : unit === 'k' ? 1024 : 1)
  if (n < 1) throw new UsageError(`--${flag} must be at least 1 byte`)
  return Math.floor(n)
}

/** Lines printed when recording starts: where, what, and how to send something through. */
export function startBanner(rec: Recorder, continued: number): string[] {
  const session = continued > 0 ? `${rec.sessionFile} (continuing: ${continued} exchanges so far)` : rec.sessionFile
  const lines = [
    rec.mode === 'reverse' ? `reltape record: reverse proxy on ${rec.url} → ${rec.upstream}` : `reltape record: forward proxy on ${rec.url} (HTTP, and HTTPS via CONNECT)`,
    `  session:  ${session}`,
    `  CA:       ${rec.ca.certPath}`,
    `  SPKI:     ${rec.ca.spkiFingerprint}`,
    `  filter:   ${rec.filter}`,
  ]
  const body = `-H 'Content-Type: application/json' -d '{}'`
  if (rec.mode === 'reverse') lines.push(`  try:      curl --compressed ${body} ${rec.url}/public/api/v1/chats/history`)
  else lines.push(`  try:      curl --compressed --proxy ${rec.url} --cacert ${rec.ca.certPath} ${body} https://localhost:8443/public/api/v1/chats/history   (with \`reltape sandbox\` running)`)
  lines.push('Recording. Ctrl-C stops and writes the session.')
  return lines
}

export function summaryLines(s: RecorderSummary, why: string, hints = true): string[] {
  return [
    `stopped (${why}): ${s.recorded} exchanges recorded (${s.failed} failed in transport), ${s.skipped} skipped by the filter, ${s.identities} identities`,
    `  session:  ${s.sessionFile} (${s.exchanges} exchanges in all)`,
    ...(hints ? [`  inspect:  reltape view    replay: reltape replay ${s.sessionName}`] : []),
  ]
}

async function run({ values, positionals }: ParsedArgs): Promise<number> {
  const launch = values.launch === true
  if (positionals.length > 0 && !launch) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (a URL goes after --launch)`)
  const maxBodyRaw = stringOption(values, 'max-body')
  const dir = stringOption(values, 'dir')
  const session = stringOption(values, 'session')
  const host = stringOption(values, 'host') ?? DEFAULT_HOST
  // Listening for SIGINT / SIGTERM starts before the proxy listens: a stop asked for while it starts waits until it
  // has started, then stops it cleanly (the session written, the lock released), instead of the signal killing it.
  const stopped = untilStopped()
  muteMockttpLogs()
  // The recorder checks its own options (the upstream URL, the CA files, their contradictions): a bad one is
  // OPTION_INVALID naming the flag, which exits 2 like any usage error.
  const rec = await startRecorder({
    ...(session ? { session } : {}),
    ...(dir ? { dir } : {}),
    port: intOption(values, 'port', DEFAULT_PORT),
    host,
    upstream: stringOption(values, 'upstream') ?? null,
    upstreamCaFiles: listOption(values, 'upstream-ca'),
    insecureUpstream: values['insecure-upstream'] === true,
    include: listOption(values, 'include'),
    // The launched browser's own calls home are not the app's traffic.
    exclude: [...listOption(values, 'exclude'), ...(launch ? BROWSER_HOUSEKEEPING : [])],
    all: values.all === true,
    redact: values.redact === true,
    maxBody: maxBodyRaw ? parseSize(maxBodyRaw, 'max-body') : DEFAULT_MAX_BODY,
    upstreamTimeoutMs: intOption(values, 'upstream-timeout', DEFAULT_UPSTREAM_TIMEOUT_MS / 1000, 0, 86_400) * 1000,
    tool: toolName,
    reuseTlsContexts: true,
    bindHostExactly: true,
    onExchange: (_e, line) => console.log(line),
    log: (m) => console.error(m),
  })
  const continued = rec.exchangesAtStart
  for (const line of startBanner(rec, continued)) console.log(line)
  if (values['insecure-upstream']) console.error('WARNING: --insecure-upstream: upstream TLS certificates are NOT verified')
  if (!/^(127\.|::1$|localhost$)/.test(host))
    console.error(`WARNING: --host ${host}: the proxy is reachable from other machines, and what it records holds live tokens`)
  if (values.redact) console.log('  redact:   tokens are stored as <identity-N>')
  let lastSkipped = 0
  const skippedTimer = setInterval(() => {
    const { skipped } = rec.stats()
    if (skipped !== lastSkipped) console.log(`  (${skipped} requests skipped by the filter so far)`)
    lastSkipped = skipped
  }, 3000)
  skippedTimer.unref()
  let browser: ReturnType<typeof launchChromium> | null = null
  if (launch) {
    browser = launchChromium({ proxyUrl: rec.mode === 'forward' ? rec.url : null, spkiFingerprint: rec.ca.spkiFingerprint, ...(positionals[0] ? { url: positionals[0] } : {}) })
    console.log(`Chromium started (fresh profile ${browser.profileDir}); its traffic goes through the proxy.`)
  }
  const signal = await stopped
  clearInterval(skippedTimer)
  console.log(`\n${signal}: finishing in-flight exchanges… (Ctrl-C again quits at once; the journal keeps what was recorded)`)
  const force = () => process.exit(130)
  process.once('SIGINT', force)
  process.once('SIGTERM', force)
  await browser?.close()
  const summary = await rec.stop()
  for (const line of summaryLines(summary, signal)) console.log(line)
  const stoppedBy = rec.recordingError()
  if (stoppedBy) {
    console.error(`reltape: ${summary.notRecorded} exchange(s) were answered but not recorded: ${stoppedBy.message} [${stoppedBy.code}]`)
    return stoppedBy.exit
  }
  return 0
}


export const recordCommand: Command = {
  name: 'record',
  summary: 'record API traffic through an HTTPS proxy into a session',
  args: '[--launch [URL]]',
  positionals: { min: 0, max: 1 },
  options: {
    session: { type: 'string', valueName: 'NAME', description: 'session to record into (default: the date and time); an existing one is continued' },
    port: { type: 'string', valueName: 'PORT', description: 'proxy port (default 8000; 0 picks a free one)' },
    host: { type: 'string', valueName: 'HOST', description: 'address to bind (default 127.0.0.1)' },
    upstream: { type: 'string', valueName: 'URL', description: 'reverse proxy: send every request to this origin (the app points at reltape; no CA needed)' },
    'upstream-ca': { type: 'string', multiple: true, valueName: 'FILE', description: "trust this CA (PEM) for the upstream's TLS, besides the system's and reltape's" },
    'insecure-upstream': { type: 'boolean', description: "don't verify the upstream's TLS certificate (warns)" },
    include: { type: 'string', multiple: true, valueName: 'GLOB', description: 'also record host/path matching this glob (a leading / matches the path only)' },
    exclude: { type: 'string', multiple: true, valueName: 'GLOB', description: 'never record host/path matching this glob' },
    all: { type: 'boolean', description: 'record everything, not only API traffic' },
    redact: { type: 'boolean', description: 'store tokens as <identity-N>, so the session can be shared' },
    'upstream-timeout': { type: 'string', valueName: 'SECONDS', description: 'record TIMEOUT and close the client when the upstream is silent this long (default 300; 0: never)' },
    'max-body': { type: 'string', valueName: 'SIZE', description: 'store bodies up to this size, cut beyond with a marker (default 50MB)' },
    launch: { type: 'boolean', description: "start Chromium with a fresh profile, the proxy and reltape's CA; opens URL if given" },
    ...dirOption,
  },
  details: `
Forward proxy by default: point the client at the proxy and trust reltape's CA (see \`reltape ca\`).
With --upstream, the app's API base URL points at reltape instead, and no CA is needed.
Each exchange is written at once to <session>.journal; Ctrl-C or SIGTERM writes the session file.
Examples:
  reltape record --session login-bug
  reltape record --upstream https://dev.example.com --port 8000
  reltape record --launch http://localhost:3000/`,
  run,
}
