/**
 * Sizes: sessions of 10,000, 100,000 and 300,000 exchanges of the committed sample's shape (lib/sample-sessions.ts,
 * ~2.9 KB an exchange: 29 MB, 287 MB, 860 MB), and what each part of reltape costs on them, in time and in the peak
 * resident memory of the process doing the work: `reltape sessions --json` (with the index beside the session and
 * without it), replay ready (with and without), the viewer's first rows (API and Chromium), and a recorder
 * continuing the session (listening, 100 new exchanges, stop). The point: with the index, every part costs what the
 * index costs, not what the bodies cost, so 100,000 exchanges cost about what 10,000 do and 300,000 fit in memory.
 */
import { execFile, execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { cpus, loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser } from 'playwright-core'
import { ProxyAgent } from 'undici'
import { type BenchChild, startNodeChild } from './lib/children.js'
import { compiledChild } from './lib/compile.js'
import { peakRssBytes } from './lib/cpu.js'
import { API_PATH, sendSupportRequest, TOKEN } from './lib/envelope.js'
import { runLoad } from './lib/load.js'
import { watchFirstPaint } from './lib/page-timing.js'
import type { ResultRow } from './lib/results.js'
import { writeSampleSession } from './lib/sample-sessions.js'
import type { Scenario, ScenarioContext } from './lib/scenario.js'
import { median, spread } from './lib/stats.js'
import { benchHome } from './lib/tls.js'
import { CHROMIUM, CHROMIUM_ARGS, privateUi, ROW } from './viewer.js'

const NAME = 'bench-sizes'
const ROOT = fileURLToPath(new URL('..', import.meta.url))
const DIST_CLI = join(ROOT, 'dist/bin/reltape.js')
/**
 * Where the CLI is built when dist/ is older than the sources: `<here>/dist`, with a copy of package.json beside it as
 * in the published package (reltape reads its version from there); packages still resolve from ./node_modules.
 */
const PRIVATE_PACKAGE = join(ROOT, 'node_modules/.cache/reltape-bench/cli')
const PRIVATE_BUILD = join(PRIVATE_PACKAGE, 'dist')
const PRELOAD = fileURLToPath(new URL('lib/peak-rss.cjs', import.meta.url))
/** New exchanges a recorder continuing the session records before it is stopped. */
const NEW_EXCHANGES = 100
const FIRST_PAGE = 200
const PAGE = 1000
/** The warm-up round's session. */
const WARM = 1000
const HEADERS = { cookie: `client-session=${TOKEN}`, origin: 'http://dev.iqstore.ru' }

type Key =
  | 'list'
  | 'listPeak'
  | 'listCold'
  | 'listColdPeak'
  | 'replay'
  | 'replayPeak'
  | 'replayCold'
  | 'replayColdPeak'
  | 'viewApi'
  | 'viewAll'
  | 'viewPeak'
  | 'viewPage'
  | 'recListen'
  | 'recStop'
  | 'recPeak'
  // Not rows of their own: process start to ready, for the notes.
  | 'replayProc'
  | 'replayColdProc'
  | 'viewProc'
  | 'recProc'
  | 'recRecord'

type Metric = { key: Key; what: string; unit: 's' | 'MB'; target?: { max: number; text: string }; note?: (n: (key: Key) => string) => string }

const PEAK_NOTE = 'VmHWM of the process'
const METRICS: Metric[] = [
  {
    key: 'list',
    what: '`reltape sessions --json`, index present',
    unit: 's',
    target: { max: 0.3, text: '≤ 0.3 s' },
    note: () => '`node dist/bin/reltape.js sessions --json --dir DIR` as users run it, spawn to exit (output read to the end, the count checked); the directory holds this session alone',
  },
  { key: 'listPeak', what: '`reltape sessions --json`, index present: peak RSS', unit: 'MB', target: { max: 100, text: '≤ 100 MB' }, note: () => `${PEAK_NOTE}, written by the process itself at exit (preloaded lib/peak-rss.cjs)` },
  { key: 'listCold', what: '`reltape sessions --json`, index deleted first', unit: 's', note: () => 'the `.NAME.index` is deleted before the run: the listing reads the whole file and writes the index again' },
  { key: 'listColdPeak', what: '`reltape sessions --json`, index deleted first: peak RSS', unit: 'MB' },
  {
    key: 'replay',
    what: 'replay ready (startReplay until listening), index present',
    unit: 's',
    target: { max: 2, text: '≤ 2 s' },
    note: (n) => `startReplay({ session, dir }) in a child, timed in the child; its process start to ready (node start, module load): ${n('replayProc')}`,
  },
  { key: 'replayPeak', what: 'replay ready, index present: peak RSS', unit: 'MB', target: { max: 400, text: '≤ 400 MB' }, note: () => `${PEAK_NOTE} (/proc/<pid>/status) once listening, read just before the child is stopped` },
  {
    key: 'replayCold',
    what: 'replay ready, index deleted first (builds it)',
    unit: 's',
    target: { max: 6, text: '≤ 6 s' },
    note: (n) => `process start to ready: ${n('replayColdProc')}`,
  },
  { key: 'replayColdPeak', what: 'replay ready, index deleted first: peak RSS', unit: 'MB' },
  {
    key: 'viewApi',
    what: `viewer first rows, API (ready → GET /api/sessions, then exchanges?offset=0&limit=${FIRST_PAGE})`,
    unit: 's',
    target: { max: 1, text: '≤ 1 s' },
    note: (n) =>
      `a fresh startViewer child on a directory holding this session alone, asked as soon as it is ready (its background warm-up reads the same session meanwhile); its process start to ready: ${n('viewProc')}`,
  },
  { key: 'viewAll', what: `viewer API: every other row paged (${PAGE} a page) after the first page`, unit: 's' },
  { key: 'viewPeak', what: 'viewer after every row was paged: peak RSS', unit: 'MB', note: () => `${PEAK_NOTE} after the first page and every other page were answered` },
  {
    key: 'viewPage',
    what: 'viewer first rows in Chromium (#/sessions/NAME)',
    unit: 's',
    target: { max: 1, text: '≤ 1 s' },
    note: () =>
      'a fresh startViewer child per repetition and a fresh browser context; navigation start to the first painted frame showing a row, timed in the page (lib/page-timing.ts), navigation sent as soon as the viewer is ready',
  },
  {
    key: 'recListen',
    what: 'recorder continuing the session: startRecorder until listening',
    unit: 's',
    target: { max: 1.5, text: '≤ 1.5 s' },
    note: (n) => `startRecorder({ dir, session, port: 0, home }) in a child, timed in the child; its process start to ready: ${n('recProc')}`,
  },
  {
    key: 'recStop',
    what: `recorder stop() after ${NEW_EXCHANGES} new exchanges`,
    unit: 's',
    target: { max: 0.5, text: '≤ 0.5 s' },
    note: (n) =>
      `${NEW_EXCHANGES} send/support POSTs through the forward proxy (undici ProxyAgent, 4 at a time) to an HTTPS upstream child (median time for the 100: ${n('recRecord')}); then stop(), timed in the child. Each repetition continues the session, so the k-th starts from N + ${NEW_EXCHANGES}(k − 1) exchanges`,
  },
  { key: 'recPeak', what: 'recorder (start, 100 exchanges, stop): peak RSS', unit: 'MB', note: () => `${PEAK_NOTE} after stop() returned` },
]

const fmtN = (n: number) => n.toLocaleString('en-US')

type Listed = { name: string; exchanges?: number; invalid?: string }

/** `node dist/bin/reltape.js sessions --json --dir DIR`: wall time from spawn to exit, and its own peak RSS at exit. */
function listSessions(cli: string, dir: string, peakFile: string): Promise<{ ms: number; peak: number; list: Listed[] }> {
  rmSync(peakFile, { force: true })
  return new Promise((resolve, reject) => {
    const t0 = performance.now()
    execFile(
      process.execPath,
      ['-r', PRELOAD, cli, 'sessions', '--json', '--dir', dir],
      { env: { ...process.env, RELTAPE_BENCH_PEAK_FILE: peakFile }, maxBuffer: 16 << 20, timeout: 300_000 },
      (error, stdout, stderr) => {
        const ms = performance.now() - t0
        if (error) return reject(new Error(`reltape sessions --json failed (${error.message.split('\n')[0]}): ${stderr.trim().slice(-1500)}`))
        try {
          const kb = Number(readFileSync(peakFile, 'utf8'))
          if (!kb) throw new Error('the process wrote no VmHWM')
          resolve({ ms, peak: kb * 1024, list: JSON.parse(stdout) as Listed[] })
        } catch (e) {
          reject(e as Error)
        }
      },
    )
  })
}

/** The newest modification of a product source file: dist/ older than it is not what the children (compiled from the sources) run. */
function newestSource(): { file: string; mtimeMs: number } {
  // viewer/ui is the browser's (built by vite into dist/ui), not the CLI's.
  const dirs = ['bin', 'model', 'store', 'recorder', 'replay', 'sandbox'].map((d) => join(ROOT, d))
  const viewer = readdirSync(join(ROOT, 'viewer')).filter((f) => f.endsWith('.ts')).map((f) => join(ROOT, 'viewer', f))
  const newest = newestUnder(dirs, (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  for (const f of [...viewer, join(ROOT, 'index.ts')]) {
    const m = statSync(f).mtimeMs
    if (m > newest.mtimeMs) Object.assign(newest, { file: f.slice(ROOT.length), mtimeMs: m })
  }
  return newest
}

/**
 * The CLI the listing rows run: dist/bin/reltape.js, built with `npm run build` when missing. When a product source
 * is newer than dist/ (someone is changing the code and has not rebuilt), the same tsc build (tsconfig.build.json)
 * is made into node_modules/.cache/reltape-bench/cli/ instead, so that the CLI runs the code the children run
 * (compiled from the sources) and dist/ is left to whoever builds it.
 */
export function cliToRun(ctx: ScenarioContext): { cli: string; note: string | null } {
  if (!existsSync(DIST_CLI)) {
    ctx.log('  dist/bin/reltape.js is missing: running npm run build …')
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 600_000 })
    if (!existsSync(DIST_CLI)) throw new Error('npm run build made no dist/bin/reltape.js')
  }
  const source = newestSource()
  const built = statSync(DIST_CLI).mtimeMs
  if (source.mtimeMs <= built) return { cli: DIST_CLI, note: null }
  ctx.log(`  dist/ is older than ${source.file} (by ${((source.mtimeMs - built) / 1000).toFixed(0)} s): building the CLI with tsc -p tsconfig.build.json into ${PRIVATE_BUILD.slice(ROOT.length)} …`)
  rmSync(PRIVATE_PACKAGE, { recursive: true, force: true })
  mkdirSync(PRIVATE_PACKAGE, { recursive: true })
  copyFileSync(join(ROOT, 'package.json'), join(PRIVATE_PACKAGE, 'package.json'))
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', PRIVATE_BUILD], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
  } catch (e) {
    const out = String((e as { stdout?: string }).stdout ?? '').trim()
    throw new Error(`the sources do not build (tsc -p tsconfig.build.json): ${out.split('\n').slice(0, 8).join(' | ') || (e as Error).message}`)
  }
  return { cli: join(PRIVATE_BUILD, 'bin/reltape.js'), note: `dist/ was older than ${source.file}: the CLI ran a tsc build of the same sources (tsconfig.build.json) made into ${PRIVATE_BUILD.slice(ROOT.length)}` }
}

/** The newest modification under `dirs` (files whose name passes `keep`). */
function newestUnder(dirs: string[], keep: (name: string) => boolean): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 }
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(p)
      } else if (keep(e.name)) {
        const m = statSync(p).mtimeMs
        if (m > newest.mtimeMs) newest = { file: p.slice(ROOT.length), mtimeMs: m }
      }
    }
  }
  for (const d of dirs) if (existsSync(d)) walk(d)
  return newest
}

/**
 * The viewer's UI for the Chromium runs, in `into`: dist/ui copied (viewer.ts's privateUi, which builds it when
 * missing); when viewer/ui is newer than dist/ui, built from the sources straight into `into` (vite, the project's
 * config), leaving dist/ to whoever builds it.
 */
async function uiToUse(ctx: ScenarioContext, into: string): Promise<{ dir: string; note: string | null }> {
  const index = join(ROOT, 'dist/ui/index.html')
  const source = newestUnder([join(ROOT, 'viewer/ui')], (name) => /\.(ts|css|html|json)$/.test(name))
  if (!existsSync(index) || source.mtimeMs <= statSync(index).mtimeMs) return { dir: await privateUi(ctx, into), note: null }
  ctx.log(`  dist/ui is older than ${source.file}: building the UI with vite into the temp dir …`)
  try {
    execFileSync(join(ROOT, 'node_modules/.bin/vite'), ['build', '--config', 'viewer/ui/vite.config.ts', '--outDir', into, '--emptyOutDir'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
  } catch (e) {
    const out = `${String((e as { stdout?: string }).stdout ?? '')}${String((e as { stderr?: string }).stderr ?? '')}`.trim()
    throw new Error(`the viewer UI does not build (vite build): ${out.split('\n').slice(0, 8).join(' | ') || (e as Error).message}`)
  }
  if (!existsSync(join(into, 'index.html'))) throw new Error('vite build made no index.html')
  return { dir: into, note: `dist/ui was older than ${source.file}: the page ran a vite build of the UI's sources (the project's config) made for this run` }
}

export const sizes: Scenario = {
  name: 'sizes',
  describe: 'sessions of 10k, 100k, 300k exchanges: listing, replay ready, viewer first rows, recorder continuing (time, peak RSS)',
  async run(ctx: ScenarioContext) {
    const SIZES = ctx.quick ? [2000, 10_000, 20_000] : [10_000, 100_000, 300_000]
    const reps = ctx.quick ? 2 : 3
    const [, mid, large] = SIZES as [number, number, number]

    const { cli, note: cliNote } = cliToRun(ctx)

    const env = await benchHome('sizes')
    // Over a gigabyte of sessions: removed even when the run is cut short (Ctrl-C: children.ts exits on SIGINT/SIGTERM).
    const removeTmp = () => rmSync(env.tmp, { recursive: true, force: true })
    process.once('exit', removeTmp)
    const children = new Set<BenchChild>()
    let browser: Browser | null = null
    const samples = new Map<Key, Map<number, (number | undefined)[]>>()
    /** Repetition -1 is the warm-up round: measured the same way, kept nowhere. */
    const put = (key: Key, size: number, rep: number, value: number) => {
      if (rep < 0) return
      const bySize = samples.get(key) ?? new Map<number, (number | undefined)[]>()
      samples.set(key, bySize)
      const values = bySize.get(size) ?? new Array<number | undefined>(reps).fill(undefined)
      bySize.set(size, values)
      values[rep] = value
    }
    const got = (key: Key, size: number) => samples.get(key)?.get(size) ?? new Array<number | undefined>(reps).fill(undefined)
    const failures: { size: number; rep: number; step: string; message: string }[] = []
    /** Runs one measurement; a failure is recorded (and reported as a row), and the others go on. */
    const step = async (size: number, rep: number, name: string, fn: () => Promise<void>) => {
      try {
        await fn()
      } catch (e) {
        const message = (e as Error).message
        failures.push({ size, rep, step: name, message })
        ctx.log(`  ${fmtN(size)}, ${rep < 0 ? 'warm-up' : `rep ${rep + 1}`}: ${name} FAILED: ${message.split('\n').slice(0, 6).join(' | ')}`)
      }
    }
    const killChild = async (child: BenchChild) => {
      await child.kill()
      children.delete(child)
    }

    try {
      const started = performance.now()
      // Compiled once before anything is timed: a child's first start would otherwise include esbuild.
      for (const c of ['replay', 'viewer', 'recorder', 'upstream']) await compiledChild(c)
      const { dir: uiDir, note: uiNote } = await uiToUse(ctx, join(env.tmp, 'ui'))
      const up = await startNodeChild('upstream', { cert: env.upstreamCert.cert, key: env.upstreamCert.key })
      children.add(up.child)
      const origin = String(up.ready.url)

      // One directory per size, each holding its session alone (the viewer and the listing show every session there).
      const dirs = new Map<number, string>()
      const expected = new Map<number, number | null>()
      const fileMb = new Map<number, number>()
      for (const size of [WARM, ...SIZES]) {
        const dir = join(env.tmp, `s${size}`)
        await mkdir(dir, { recursive: true })
        const t0 = performance.now()
        const file = await writeSampleSession(dir, NAME, size)
        ctx.log(`  wrote ${fmtN(size)} exchanges (${(statSync(file).size / 2 ** 20).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
        dirs.set(size, dir)
        expected.set(size, size)
        fileMb.set(size, statSync(file).size / 2 ** 20)
      }
      const peakFile = join(env.tmp, 'peak-rss')
      const indexOf = (size: number) => join(dirs.get(size)!, `.${NAME}.index`)
      /** The exchange count every part must report, once known. */
      const check = (size: number, what: string, count: unknown) => {
        const want = expected.get(size)
        if (want !== null && want !== undefined && count !== want) throw new Error(`${what} reported ${String(count)} exchanges, expected ${want}`)
      }
      const ensureIndex = async (size: number) => {
        if (!existsSync(indexOf(size))) {
          ctx.log(`  ${fmtN(size)}: no index before a measurement that wants one: listing once to build it`)
          await listSessions(cli, dirs.get(size)!, peakFile)
        }
      }

      try {
        browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
      } catch (e) {
        ctx.log(`  Chromium did not start (${(e as Error).message.split('\n')[0]}): no browser rows`)
      }

      // A warm-up round on a small session of its own (every step once, unmeasured: the first start of each child
      // and of the CLI reads its modules from disk), then the repetitions, sizes interleaved inside each, so that the
      // 100k ÷ 10k ratios pair runs made back to back.
      /** The 1-minute load average after each size's runs: on 2 cores, above ~2 means other work shared the machine. */
      const loads: number[] = []
      const rounds: [number, number[]][] = [[-1, [WARM]], ...Array.from({ length: reps }, (_, r): [number, number[]] => [r, SIZES])]
      for (const [rep, roundSizes] of rounds) {
        for (const size of roundSizes) {
          const dir = dirs.get(size)!
          const at = rep < 0 ? `warm-up (${fmtN(size)})` : `${fmtN(size)}, rep ${rep + 1}/${reps}`
          const line: string[] = []

          // Unmeasured: builds the index on the first repetition, brings it up to date after a recorder's stop later.
          await step(size, rep, 'listing (warm-up)', async () => {
            const r = await listSessions(cli, dir, peakFile)
            const listed = r.list.find((s) => s.name === NAME)
            if (!listed || listed.invalid) throw new Error(`the session is not listed as valid: ${JSON.stringify(r.list).slice(0, 500)}`)
            if (expected.get(size) === null) expected.set(size, listed.exchanges ?? null)
            check(size, 'the warm-up listing', listed.exchanges)
          })

          for (const cold of [false, true]) {
            await step(size, rep, `listing${cold ? ', index deleted' : ''}`, async () => {
              if (cold) rmSync(indexOf(size), { force: true })
              else await ensureIndex(size)
              const r = await listSessions(cli, dir, peakFile)
              check(size, '`reltape sessions --json`', r.list.find((s) => s.name === NAME)?.exchanges)
              put(cold ? 'listCold' : 'list', size, rep, r.ms)
              put(cold ? 'listColdPeak' : 'listPeak', size, rep, r.peak)
              line.push(`list${cold ? ' (no index)' : ''} ${r.ms.toFixed(0)} ms ${(r.peak / 2 ** 20).toFixed(0)} MB`)
            })
          }

          for (const cold of [false, true]) {
            await step(size, rep, `replay${cold ? ', index deleted' : ''}`, async () => {
              if (cold) rmSync(indexOf(size), { force: true })
              else await ensureIndex(size)
              const t0 = performance.now()
              const rep_ = await startNodeChild('replay', { session: NAME, dir }, { timeoutMs: 600_000 })
              const procMs = performance.now() - t0
              children.add(rep_.child)
              try {
                const peak = peakRssBytes(rep_.child.pid)
                check(size, 'startReplay', rep_.ready.exchanges)
                const ms = Number(rep_.ready.startMs)
                put(cold ? 'replayCold' : 'replay', size, rep, ms)
                put(cold ? 'replayColdPeak' : 'replayPeak', size, rep, peak)
                put(cold ? 'replayColdProc' : 'replayProc', size, rep, procMs)
                line.push(`replay${cold ? ' (no index)' : ''} ${ms.toFixed(0)} ms ${(peak / 2 ** 20).toFixed(0)} MB`)
              } finally {
                await killChild(rep_.child)
              }
            })
          }

          await step(size, rep, 'viewer API', async () => {
            await ensureIndex(size)
            const t0 = performance.now()
            const v = await startNodeChild('viewer', { dir, uiDir }, { timeoutMs: 120_000 })
            const ready = performance.now()
            children.add(v.child)
            try {
              // The API asks for the run's token when startViewer made one (`Authorization: Bearer`, as the UI sends it).
              const base = new URL(String(v.ready.url)).origin
              const headers: Record<string, string> = v.ready.token ? { authorization: `Bearer ${String(v.ready.token)}` } : {}
              const get = async <T>(path: string): Promise<T> => {
                const res = await fetch(`${base}${path}`, { headers })
                const text = await res.text()
                if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${text.slice(0, 300)}`)
                return JSON.parse(text) as T
              }
              const list = await get<Listed[]>('/api/sessions')
              check(size, 'GET /api/sessions', list.find((s) => s.name === NAME)?.exchanges)
              const first = await get<{ total: number; items: unknown[] }>(`/api/sessions/${NAME}/exchanges?offset=0&limit=${FIRST_PAGE}`)
              const firstMs = performance.now() - ready
              check(size, 'the first page', first.total)
              if (first.items.length !== Math.min(FIRST_PAGE, first.total)) throw new Error(`the first page holds ${first.items.length} rows`)
              let offset = first.items.length
              const t1 = performance.now()
              while (offset < first.total) {
                const page = await get<{ total: number; items: unknown[] }>(`/api/sessions/${NAME}/exchanges?offset=${offset}&limit=${PAGE}`)
                if (page.items.length === 0) throw new Error(`an empty page at offset ${offset} of ${first.total}`)
                offset += page.items.length
              }
              const allMs = performance.now() - t1
              const peak = peakRssBytes(v.child.pid)
              put('viewApi', size, rep, firstMs)
              put('viewAll', size, rep, allMs)
              put('viewPeak', size, rep, peak)
              put('viewProc', size, rep, ready - t0)
              line.push(`viewer API ${firstMs.toFixed(0)} ms (all ${allMs.toFixed(0)} ms) ${(peak / 2 ** 20).toFixed(0)} MB`)
            } finally {
              await killChild(v.child)
            }
          })

          if (browser) {
            const b = browser
            await step(size, rep, 'viewer in Chromium', async () => {
              await ensureIndex(size)
              const v = await startNodeChild('viewer', { dir, uiDir }, { timeoutMs: 120_000 })
              children.add(v.child)
              const context = await b.newContext({ viewport: { width: 1400, height: 900 } })
              try {
                const page = await context.newPage()
                const painted = await watchFirstPaint(page, ROW)
                // The link startViewer hands out (with `?token=…` when the API asks for one), the deep link after it.
                const link = new URL(String(v.ready.url))
                await page.goto(`${link.origin}${link.pathname}${link.search}#/sessions/${NAME}`)
                const ms = await painted.paintedAt()
                put('viewPage', size, rep, ms)
                line.push(`Chromium first rows ${ms.toFixed(0)} ms`)
              } finally {
                await context.close()
                await killChild(v.child)
              }
            })
          }

          await step(size, rep, 'recorder', async () => {
            await ensureIndex(size)
            const t0 = performance.now()
            const rec = await startNodeChild('recorder', { home: env.home, dir, session: NAME }, { timeoutMs: 300_000 })
            const procMs = performance.now() - t0
            children.add(rec.child)
            const dispatcher = new ProxyAgent({ uri: String(rec.ready.url), requestTls: { ca: [env.ca.cert] }, connections: 4, keepAliveTimeout: 60_000 })
            try {
              // From here the session changes: what it holds is learnt again from the stop's summary (or the next listing).
              const atStart = Number(rec.ready.exchangesAtStart)
              check(size, 'startRecorder (exchangesAtStart)', atStart)
              expected.set(size, null)
              const load = await runLoad({ dispatcher, origin, path: API_PATH, count: NEW_EXCHANGES, concurrency: 4, body: sendSupportRequest, headers: HEADERS, first: rep * NEW_EXCHANGES, timeoutMs: 120_000 })
              if (load.errors) throw new Error(`${load.errors} of ${NEW_EXCHANGES} requests through the recorder failed, first: ${load.firstError}; its stderr: ${rec.child.stderr.trim().slice(-1000)}`)
              const stopped = await rec.child.ask('stop', {}, 300_000)
              if (stopped.error) throw new Error(`stop() failed: ${String(stopped.error)}`)
              const peak = peakRssBytes(rec.child.pid)
              const summary = stopped.summary as { exchanges: number }
              if (summary.exchanges !== atStart + NEW_EXCHANGES) throw new Error(`the session holds ${summary.exchanges} exchanges after stop, expected ${atStart + NEW_EXCHANGES}`)
              expected.set(size, summary.exchanges)
              const listenMs = Number(rec.ready.startMs)
              const stopMs = Number(stopped.stopMs)
              put('recListen', size, rep, listenMs)
              put('recStop', size, rep, stopMs)
              put('recPeak', size, rep, peak)
              put('recProc', size, rep, procMs)
              put('recRecord', size, rep, load.elapsedMs)
              line.push(`recorder listening ${listenMs.toFixed(0)} ms, ${NEW_EXCHANGES} in ${load.elapsedMs.toFixed(0)} ms, stop ${stopMs.toFixed(0)} ms, ${(peak / 2 ** 20).toFixed(0)} MB`)
            } finally {
              await dispatcher.close()
              await killChild(rec.child)
            }
          })
          const load = loadavg()[0]!
          if (rep >= 0) loads.push(load)
          ctx.log(`  ${at}: ${line.join('; ')} [load ${load.toFixed(1)}]`)
        }
      }
      ctx.log(`  measured in ${((performance.now() - started) / 1000).toFixed(0)} s`)

      // Rows: each metric at each size; the middle size's row carries the ratio to the small one and the issue's target,
      // the large one's the ratio to the middle one (for memory, its target: within 1.5×).
      const defined = (v: number | undefined): v is number => v !== undefined && Number.isFinite(v)
      const scaleOf = (unit: Metric['unit']) => (unit === 's' ? 1 / 1000 : 1 / 2 ** 20)
      const procText = (key: Key) =>
        SIZES.map((s) => {
          const v = got(key, s).filter(defined)
          return `${fmtN(s)}: ${v.length ? `${(median(v) / 1000).toFixed(2)} s` : '—'}`
        }).join(', ')
      const rows: ResultRow[] = []
      for (const m of METRICS) {
        SIZES.forEach((size, i) => {
          const values = got(m.key, size)
          const present = values.filter(defined)
          const k = scaleOf(m.unit)
          const row: ResultRow = { scenario: 'sizes', metric: `${m.what}, ${fmtN(size)} exchanges`, value: present.length ? median(present) * k : null, unit: m.unit, baseline: null, ratio: null }
          if (present.length > 1) row.spread = spread(present)
          if (i > 0) {
            const prev = SIZES[i - 1]!
            const before = got(m.key, prev)
            const ratios = values.map((v, r) => (defined(v) && defined(before[r]) && before[r] > 0 ? v / before[r] : undefined)).filter(defined)
            row.baseline = `${fmtN(prev)} exchanges`
            row.ratio = ratios.length ? median(ratios) : null
          }
          if (size === mid && m.target) {
            row.target = m.target.text
            row.met = row.value !== null && row.value <= m.target.max
          }
          if (size === large && m.unit === 'MB') {
            row.target = `≤ 1.5× the ${fmtN(mid)} figure`
            row.met = row.ratio !== null && row.ratio <= 1.5
          }
          const notes: string[] = []
          if (m.key === 'list') notes.push(`the session file: ${fileMb.get(size)!.toFixed(0)} MB`)
          if (size === mid && m.note) notes.push(m.note(procText))
          if (present.length < reps) notes.push(`${reps - present.length} of ${reps} repetitions failed (see the failure rows)`)
          if (size === mid && cliNote && m.key === 'list') notes.push(cliNote)
          if (size === mid && uiNote && m.key === 'viewPage') notes.push(uiNote)
          if (notes.length) row.note = notes.join('; ')
          rows.push(row)
        })
      }
      const failedAt = (size: number) => failures.filter((f) => f.size === size && f.rep >= 0)
      const steps = 1 + 2 + 2 + 1 + (browser ? 1 : 0) + 1
      rows.push({
        scenario: 'sizes',
        metric: `every command works on ${fmtN(large)} exchanges (listing ×2, replay ×2, viewer API${browser ? ', Chromium' : ''}, recorder; × ${reps})`,
        value: steps * reps - failedAt(large).length,
        unit: `of ${steps * reps} runs`,
        baseline: null,
        ratio: null,
        target: 'all',
        met: failedAt(large).length === 0 && browser !== null,
        note: `${browser ? '' : 'Chromium did not start: the browser runs are missing; '}1-minute load average after each size's runs: ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} (${cpus().length} cores; above the core count, other work shared the machine)`,
      })
      const grouped = new Map<string, typeof failures>()
      for (const f of failures) grouped.set(`${f.size}\u0000${f.step}`, [...(grouped.get(`${f.size}\u0000${f.step}`) ?? []), f])
      for (const fs of grouped.values()) {
        const f = fs[0]!
        const warm = f.size === WARM
        rows.push({ scenario: 'sizes', metric: `FAILED: ${f.step}, ${warm ? 'warm-up, ' : ''}${fmtN(f.size)} exchanges`, value: fs.length, unit: `of ${warm ? 1 : reps} repetitions`, baseline: null, ratio: null, note: f.message.split('\n').slice(0, 4).join(' | ').slice(0, 600) })
      }
      return rows
    } finally {
      await browser?.close()
      for (const c of children) await c.kill()
      await env.cleanup()
      process.off('exit', removeTmp)
    }
  },
}
