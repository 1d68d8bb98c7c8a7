import { readFileSync } from 'node:fs'
import { ProxyAgent } from 'undici'
import { dirOption, intOption, stringOption, untilStopped, type Command, type ParsedArgs } from '../command.js'
import { ReltapeError } from '../../model/errors.js'
import { PortInUseError, startRecorder, type Recorder } from '../../recorder/index.js'
import { playStory, startSandbox } from '../../sandbox/index.js'
import { defaultSessionName, reltapeHome, sessionsDir } from '../../store/paths.js'
import { toolName } from '../../store/version.js'
import { DEFAULT_PORT as VIEWER_PORT, startViewer, type RunningViewer } from '../../viewer/server.js'
import { summaryLines } from './record.js'
import { muteMockttpLogs } from '../mockttp-noise.js'

type RecorderStart = Parameters<typeof startRecorder>[0] & { port: number }

/** Port 8000 when it is free (what `reltape record` uses), else any free port: the demo must start. */
async function startOnPreferredPort(options: RecorderStart, fixed: boolean): Promise<Recorder> {
  try {
    return await startRecorder(options)
  } catch (e) {
    if (!(e instanceof PortInUseError) || fixed) throw e
    console.log(`  (port ${options.port} is taken; using a free one)`)
    return startRecorder({ ...options, port: 0 })
  }
}

/** The viewer's deep link to a session, its access token kept (`http://…/?token=…#/sessions/NAME`). */
function viewerLink(url: string, session: string): string {
  const link = new URL(url)
  link.hash = `/sessions/${encodeURIComponent(session)}`
  return link.href
}

/** The viewer on its usual port when free, else on any free port. */
async function startViewerNearPort(dir: string): Promise<RunningViewer> {
  try {
    return await startViewer({ dir, port: VIEWER_PORT })
  } catch (e) {
    if ((e as { code?: string }).code !== 'PORT_IN_USE') throw e
    return startViewer({ dir, port: 0 })
  }
}

async function run({ values }: ParsedArgs): Promise<number> {
  const once = values.once === true
  const home = reltapeHome()
  const dir = stringOption(values, 'dir')
  // Tests run `--once`: a free port, never a fixed one.
  const port = intOption(values, 'port', once ? 0 : 8000)
  const session = stringOption(values, 'session') ?? `demo-${defaultSessionName()}`

  muteMockttpLogs()
  console.log('reltape demo: a support chat with two identities, recorded through the proxy')
  const sandbox = await startSandbox({ port: 0, home })
  console.log(`  sandbox API:  ${sandbox.url}/public/api/v1/   (a local stand-in for the real API)`)
  let rec: Recorder
  try {
    rec = await startOnPreferredPort(
      { session, port, home, ...(dir ? { dir } : {}), tool: toolName, reuseTlsContexts: true, bindHostExactly: true, onExchange: (_e, line) => console.log(`  ${line}`), log: (m) => console.error(`  ${m}`) },
      values.port !== undefined,
    )
  } catch (e) {
    await sandbox.close()
    throw e
  }
  console.log(`  recorder:     ${rec.url} (forward proxy; CA ${rec.ca.certPath})`)
  console.log(`  session:      ${rec.sessionFile}`)
  // The viewer follows the session live; with --once the demo ends at once, so `reltape view` is the hint instead.
  let viewer: RunningViewer | null = null
  if (!once) {
    viewer = await startViewerNearPort(sessionsDir(dir)).catch((e: Error) => {
      console.error(`  viewer not started: ${e.message}`)
      return null
    })
    if (viewer) console.log(`  viewer:       ${viewerLink(viewer.url, rec.sessionName)}`)
  }
  console.log('')
  console.log('Playing the story: the customer (cookie) and the operator (Authorization: Client)…')
  const dispatcher = new ProxyAgent({ uri: rec.url, requestTls: { ca: readFileSync(rec.ca.certPath, 'utf8') } })
  let failedStory: Error | null = null
  try {
    const story = await playStory({ apiUrl: sandbox.url, dispatcher })
    await rec.settle()
    console.log('')
    console.log(`Story done: ${story.calls} calls, ${story.ok} OK, ${story.failures} failed on purpose (the API answers 200 either way; the envelope says OK or Error).`)
  } catch (e) {
    failedStory = e as Error
  } finally {
    await dispatcher.close()
  }

  const hints = [
    viewer
      ? `Inspect it:   ${viewerLink(viewer.url, rec.sessionName)}`
      : `Inspect it:   reltape view        then open the link it prints (it holds the access token) and choose ${rec.sessionName}`,
    `Replay it:    reltape replay ${rec.sessionName}`,
    `The file:     ${rec.sessionFile}`,
  ]
  if (once || failedStory) {
    const summary = await rec.stop()
    await sandbox.close()
    await viewer?.close()
    console.log('')
    for (const line of summaryLines(summary, once ? 'demo --once' : 'story failed', false)) console.log(line)
    for (const line of hints) console.log(line)
    if (failedStory) throw new ReltapeError('DEMO_FAILED', { reason: failedStory.message }, { cause: failedStory })
    return 0
  }
  console.log('')
  for (const line of hints) console.log(line)
  console.log('')
  console.log('Still recording' + (viewer ? ' (the viewer shows new exchanges as they come)' : '') + ': point a browser at the app page through the proxy to add your own clicks:')
  console.log(`  chromium --proxy-server=${rec.url} --proxy-bypass-list='<-loopback>' --ignore-certificate-errors-spki-list=${rec.ca.spkiFingerprint} ${sandbox.appUrl}`)
  console.log('Ctrl-C stops and writes the session.')
  const signal = await untilStopped()
  const summary = await rec.stop()
  await sandbox.close()
  await viewer?.close()
  for (const line of summaryLines(summary, signal)) console.log(line)
  return 0
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'start the sandbox API, record a scripted support chat through the proxy, show where it went',
  options: {
    once: { type: 'boolean', description: 'exit after the story with a summary (default: keep recording until Ctrl-C)' },
    port: { type: 'string', valueName: 'PORT', description: 'proxy port (default 8000, or a free one if taken; 0 picks a free one)' },
    session: { type: 'string', valueName: 'NAME', description: 'session name (default demo-<date and time>)' },
    ...dirOption,
  },
  details: `
The first thing to run: nothing to configure, nothing leaves this machine.
  reltape demo          record the story, then keep the proxy up for your own clicks
  reltape demo --once   record the story, print a summary and exit`,
  run,
}
