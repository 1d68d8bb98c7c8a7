/**
 * Entities: the entity index of a 10,000-exchange session of the sample's shape (lib/sample-sessions.ts), built in
 * this process from the session's reader (`loadEntityIndex`, the `.NAME.entities` deleted first); then
 * `node dist/bin/reltape.js find Clients#11 --json --dir DIR` as users run it over SESSIONS sessions of 10,000
 * exchanges once indexed (spawn to exit, its own peak RSS); then a `reltape view` child answering
 * `GET /api/find?q=Clients#11` over the same directory, and its resident memory after the search; then, in Chromium,
 * the entity page of an entity seen in 1,000 calls (Clients#11 of a 1,667-exchange sample session).
 */
import { execFile, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadEntityIndex, entitiesPath } from '../store/entity-index.js'
import { SessionStore } from '../store/store.js'
import { chromium, type Browser } from 'playwright-core'
import { loadRelsConfig } from '../viewer/config.js'
import { timeHashChange, type DeepSelector } from './lib/page-timing.js'
import type { ResultRow } from './lib/results.js'
import { writeSampleSession } from './lib/sample-sessions.js'
import type { Scenario, ScenarioContext } from './lib/scenario.js'
import { median, spread } from './lib/stats.js'
import { peakRssBytes, rssBytes } from './lib/cpu.js'
import { cliToRun } from './sizes.js'
import { CHROMIUM, CHROMIUM_ARGS, privateUi } from './viewer.js'
import { startNodeChild, type BenchChild } from './lib/children.js'

const NAME = 'entities'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PRELOAD = fileURLToPath(new URL('lib/peak-rss.cjs', import.meta.url))
const QUERY = 'Clients#11'
/** An entity no session holds: what reading every session's entity index costs, without matches to print. */
const NONE = 'Clients#999999'
const MB = 1024 * 1024
/** Calls the entity of the page measurement is seen in: Clients#11 is in 6 of each 10 calls of the sample session. */
const PAGE_CALLS = 1_000
const PAGE_EXCHANGES = Math.ceil((PAGE_CALLS * 10) / 6)
const ENTITY_VIEW = ['reltape-app', 'entity-view']
const ENTITY_ROW: DeepSelector = { through: ENTITY_VIEW, select: '[data-testid=entity-row]' }
/** The page is shown whole when its last table (the references) has rows, after the versions and the carries. */
const ENTITY_PAGE: DeepSelector[] = [
  { through: ENTITY_VIEW, select: '[data-testid=entity-version]' },
  { through: ENTITY_VIEW, select: '[data-testid=entity-call]' },
  { through: ENTITY_VIEW, select: '[data-testid=entity-ref]' },
]

type Found = { session: string; seq: number; where: string; entity?: string }

/**
 * What a run found, without the matches themselves: holding a million parsed matches of each run would make this
 * process slow to take the next run's output (its collector busy with a large heap), which a run's time includes.
 */
type FindRun = { ms: number; peak: number; count: number; sessions: number }

/** `node CLI find QUERY --json --dir DIR`: spawn to exit, its peak RSS (VmHWM at exit), how many matches in how many sessions. */
function runFind(cli: string, dir: string, peakFile: string, query = QUERY): Promise<FindRun> {
  rmSync(peakFile, { force: true })
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    execFile(
      process.execPath,
      ['-r', PRELOAD, cli, 'find', query, '--json', '--dir', dir],
      { cwd: ROOT, env: { ...process.env, RELTAPE_BENCH_PEAK_FILE: peakFile }, maxBuffer: 256 << 20, timeout: 900_000 },
      (error, stdout, stderr) => {
        const ms = performance.now() - t0
        if (error && error.code !== 1) return reject(new Error(`reltape find failed (${error.message.split('\n')[0]}): ${stderr.trim().slice(-1500)}`))
        try {
          const matches = JSON.parse(stdout) as Found[]
          resolve({ ms, peak: Number(readFileSync(peakFile, 'utf8')) * 1024, count: matches.length, sessions: new Set(matches.map((m) => m.session)).size })
        } catch (e) {
          reject(e as Error)
        }
      },
    )
  })
}

/** `node CLI view --dir DIR --port 0`, until it prints its link (which holds the token). */
async function startView(cli: string, dir: string): Promise<{ pid: number; url: URL; stop(): void }> {
  const child = spawn(process.execPath, [cli, 'view', '--dir', dir, '--port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const url = await new Promise<URL>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reltape view printed no link in 60 s: ${err.slice(-800)}`)), 60_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const m = /reltape view: (\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(new URL(m[1]!))
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`reltape view exited (${code}): ${err.slice(-800)}`))
    })
  })
  return { pid: child.pid!, url, stop: () => child.kill('SIGTERM') }
}

async function run(ctx: ScenarioContext): Promise<ResultRow[]> {
  const sessions = ctx.quick ? 5 : 50
  const exchanges = ctx.quick ? 2_000 : 10_000
  const reps = ctx.quick ? 1 : 3
  const { cli, note: cliNote } = cliToRun(ctx)
  const dir = await mkdtemp(join(tmpdir(), 'reltape-bench-entities-'))
  const rows: ResultRow[] = []
  try {
    ctx.log(`  writing ${sessions} sessions of ${exchanges.toLocaleString('en-US')} exchanges into ${dir} …`)
    const tGen = performance.now()
    for (let i = 1; i <= sessions; i++) await writeSampleSession(dir, `s${String(i).padStart(2, '0')}`, exchanges)
    ctx.log(`  written in ${((performance.now() - tGen) / 1000).toFixed(1)} s`)

    // 1. One session's entity index, built from its reader (the session index already there).
    const config = await loadRelsConfig(dir)
    const store = new SessionStore(dir)
    const times: number[] = []
    let entityCount = 0
    for (let r = 0; r <= reps; r++) {
      const reader = await store.reader('s01')
      rmSync(entitiesPath(reader.paths), { force: true })
      const t0 = performance.now()
      const { index } = await loadEntityIndex(reader, config)
      const ms = performance.now() - t0
      entityCount = index.entities().length
      if (r > 0) times.push(ms) // the first is a warm-up
    }
    const idx = median(times)
    rows.push({
      scenario: NAME,
      metric: `entity index of a ${exchanges.toLocaleString('en-US')}-exchange session (built, written)`,
      value: Math.round(idx),
      unit: 'ms',
      baseline: null,
      ratio: null,
      spread: spread(times),
      target: '≤ 1000 ms',
      met: idx <= 1000,
      note: `loadEntityIndex(reader, config) in this process with .s01.entities deleted first (${entityCount.toLocaleString('en-US')} entities); median of ${reps} after a warm-up`,
    })

    // 2. `reltape find` over every session, once indexed (the first run builds the indexes).
    const peakFile = join(dir, '.peak')
    ctx.log(`  first reltape find over ${sessions} sessions (builds their indexes) …`)
    const cold = await runFind(cli, dir, peakFile)
    ctx.log(`  cold: ${(cold.ms / 1000).toFixed(1)} s, ${cold.count} matches`)
    const found: FindRun[] = []
    for (let r = 0; r < reps; r++) {
      found.push(await runFind(cli, dir, peakFile))
      ctx.log(`  reltape find ${QUERY}: ${found[r]!.ms.toFixed(0)} ms`)
    }
    const findMs = median(found.map((f) => f.ms))
    const matchCount = found[0]!.count
    const inSessions = found[0]!.sessions
    if (inSessions !== sessions) throw new Error(`reltape find found ${QUERY} in ${inSessions} of ${sessions} sessions`)
    rows.push({
      scenario: NAME,
      metric: `\`reltape find ${QUERY} --json\` over ${sessions} sessions of ${exchanges.toLocaleString('en-US')} exchanges, indexed`,
      value: Math.round(findMs),
      unit: 'ms',
      baseline: null,
      ratio: null,
      spread: spread(found.map((f) => f.ms)),
      target: '≤ 1000 ms',
      met: findMs <= 1000,
      note: `node dist/bin/reltape.js spawn to exit, ${matchCount.toLocaleString('en-US')} matches, read whole by this process; median of ${reps}; the first run (building every session's index and entity index) took ${(cold.ms / 1000).toFixed(1)} s${cliNote ? `; ${cliNote}` : ''}`,
    })
    const peak = median(found.map((f) => f.peak)) / MB
    rows.push({ scenario: NAME, metric: '`reltape find` over the same: peak RSS', value: Math.round(peak), unit: 'MB', baseline: null, ratio: null, note: 'VmHWM at exit (lib/peak-rss.cjs)' })
    const empty: FindRun[] = []
    for (let r = 0; r < reps; r++) empty.push(await runFind(cli, dir, peakFile, NONE))
    if (empty.some((f) => f.count !== 0)) throw new Error(`reltape find ${NONE} found something`)
    const emptyMs = median(empty.map((f) => f.ms))
    rows.push({
      scenario: NAME,
      metric: `\`reltape find ${NONE} --json\` over the same (no match)`,
      value: Math.round(emptyMs),
      unit: 'ms',
      baseline: null,
      ratio: null,
      spread: spread(empty.map((f) => f.ms)),
      target: '≤ 1000 ms',
      met: emptyMs <= 1000,
      note: `every session's entity index read, nothing printed: the search's own cost; peak RSS ${Math.round(median(empty.map((f) => f.peak)) / MB)} MB; median of ${reps}`,
    })

    // 3. The viewer answering the same search.
    const view = await startView(cli, dir)
    try {
      const token = view.url.searchParams.get('token') ?? ''
      const ask = async (limit?: number): Promise<{ ms: number; count: number }> => {
        const t0 = performance.now()
        const res = await fetch(`${view.url.origin}/api/find?q=${encodeURIComponent(QUERY)}${limit ? `&limit=${limit}` : ''}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(300_000) })
        if (!res.ok) throw new Error(`GET /api/find: ${res.status} ${await res.text()}`)
        const body = (await res.json()) as Found[]
        return { ms: performance.now() - t0, count: body.length }
      }
      const box: number[] = []
      for (let r = 0; r < reps; r++) {
        const a = await ask(200)
        if (a.count !== Math.min(200, matchCount)) throw new Error(`GET /api/find&limit=200 answered ${a.count} matches`)
        box.push(a.ms)
      }
      const boxMs = median(box)
      rows.push({ scenario: NAME, metric: `viewer search box: \`GET /api/find?q=${QUERY}&limit=200\` over the same`, value: Math.round(boxMs), unit: 'ms', baseline: null, ratio: null, spread: spread(box), note: `what the search box asks (the first 200 and the total); median of ${reps}` })
      const asked: number[] = []
      for (let r = 0; r < reps; r++) {
        const a = await ask()
        if (a.count !== matchCount) throw new Error(`GET /api/find answered ${a.count} matches, reltape find ${matchCount}`)
        asked.push(a.ms)
      }
      const rss = rssBytes(view.pid) / MB
      const hwm = peakRssBytes(view.pid) / MB
      const apiMs = median(asked)
      rows.push({ scenario: NAME, metric: `viewer \`GET /api/find?q=${QUERY}\` over the same, every match`, value: Math.round(apiMs), unit: 'ms', baseline: null, ratio: null, spread: spread(asked), note: `a \`reltape view\` child (its background warm-up running too), the answer streamed a session at a time and read whole by this process; median of ${reps}` })
      rows.push({
        scenario: NAME,
        metric: 'viewer RSS after the searches',
        value: Math.round(rss),
        unit: 'MB',
        baseline: null,
        ratio: null,
        target: '≤ 300 MB',
        met: rss <= 300,
        note: `VmRSS of the \`reltape view\` child after ${reps} searches of each kind; its peak (VmHWM) ${Math.round(hwm)} MB`,
      })
    } finally {
      view.stop()
    }
    rows.push(...(await entityPage(ctx, reps)))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

/**
 * The entity page of Clients#11 in a session of PAGE_EXCHANGES exchanges (carried by PAGE_CALLS of them, referred to by more),
 * in Chromium against a `reltape view` child: from the hash change (coming from the entity list) to the painted
 * frame that shows its versions, carries and references. The first opening (the entity index built) is reported
 * apart from the later ones (the index held by the viewer).
 */
async function entityPage(ctx: ScenarioContext, reps: number): Promise<ResultRow[]> {
  const tmp = await mkdtemp(join(tmpdir(), 'reltape-bench-entity-page-'))
  let browser: Browser | undefined
  let view: BenchChild | undefined
  try {
    const dir = join(tmp, 'sessions')
    mkdirSync(dir, { mode: 0o700 })
    await writeSampleSession(dir, 'page', PAGE_EXCHANGES)
    // The viewer as the viewer scenario runs it: startViewer in a child, with its own copy of the built UI.
    const started = await startNodeChild('viewer', { dir, uiDir: await privateUi(ctx, join(tmp, 'ui')) })
    view = started.child
    const link = new URL(String(started.ready.url))
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
    } catch (e) {
      ctx.log(`  Chromium did not start (${(e as Error).message.split('\n')[0]}): no entity page row`)
      return []
    }
    const page = await (await browser.newContext()).newPage()
    const { origin, pathname, search } = link
    await page.goto(`${origin}${pathname}${search}#/`)
    const list = '#/sessions/page/entities'
    const entity = `${list}/Clients/11`
    const times: number[] = []
    let first = 0
    let calls = 0
    for (let r = 0; r <= reps + 2; r++) {
      await timeHashChange(page, list, [ENTITY_ROW], /\/entities/)
      const t = await timeHashChange(page, entity, ENTITY_PAGE, /\/entities\/Clients\/11/)
      if (r === 0) {
        first = t.ms
        calls = Number(await page.evaluate(`document.querySelector('reltape-app').shadowRoot.querySelector('entity-view').shadowRoot.querySelector('[data-testid=entity-calls]').textContent`))
      } else times.push(t.ms)
    }
    if (calls < PAGE_CALLS) throw new Error(`the entity page says ${calls} calls, fewer than ${PAGE_CALLS}`)
    const ms = median(times)
    return [
      {
        scenario: NAME,
        metric: `entity page of an entity seen in ${PAGE_CALLS.toLocaleString('en-US')} calls (Chromium)`,
        value: Math.round(ms),
        unit: 'ms',
        baseline: null,
        ratio: null,
        spread: spread(times),
        target: '≤ 300 ms',
        met: ms <= 300,
        note: `Clients#11 of a ${PAGE_EXCHANGES.toLocaleString('en-US')}-exchange sample session (in ${calls.toLocaleString('en-US')} calls; the page lists the first 200 carries and references, the rest on asking), from the entity list: hash change to the painted frame showing its versions, carries and references (lib/page-timing.ts), the viewer holding the index; median of ${times.length}; the first opening, the index built: ${Math.round(first)} ms`,
      },
    ]
  } finally {
    await browser?.close()
    await view?.kill()
    rmSync(tmp, { recursive: true, force: true })
  }
}

export const entities: Scenario = {
  name: NAME,
  describe: 'entity index of a 10,000-exchange session; `reltape find` and the viewer search over 50 such sessions, indexed',
  run,
}
