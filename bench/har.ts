/**
 * `har`: what importing and exporting HAR cost, against the floor each has in the same run.
 * - Import of a ~100 MB HAR of this API's envelopes (20,000 entries, generated into the temp dir and removed after)
 *   vs `JSON.parse` of the same file (read whole), each in a child of its own: time (target ≤ 2×) and the import's
 *   peak resident memory against the file's size (target ≤ 4×). Beside them, the JSON work no import can skip (the
 *   entries and their answers parsed, each answer serialised again), which bounds how close the import can come.
 * - Export of a 10,000-exchange session (lib/sample-sessions.ts) to a `.har` vs the store writing the same exchanges
 *   as a session file (journal, then folded into the file at close), in this process (target ≤ 1.5×).
 * Repetitions interleaved A B A B …; values are medians, ratios the medians of per-repetition ratios.
 */
import { spawn } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportHar } from '../store/har-export.js'
import { SessionStore } from '../store/store.js'
import { compiledChild } from './lib/compile.js'
import { API_PATH, RELS_PATH, relsEnvelope, sendSupportRequest, sendSupportResponse, TOKEN } from './lib/envelope.js'
import type { ResultRow } from './lib/results.js'
import { writeSampleSession } from './lib/sample-sessions.js'
import type { Scenario } from './lib/scenario.js'
import { median, spread } from './lib/stats.js'

const ENTRIES = 20_000
const TARGET_BYTES = 100 * 2 ** 20
const EXPORT_EXCHANGES = 10_000
const PRELOAD = fileURLToPath(new URL('lib/peak-rss.cjs', import.meta.url))
const T0 = Date.UTC(2026, 0, 1)

type Pair = [string, string]
const harHeaders = (headers: Pair[]) => headers.map(([name, value]) => ({ name, value }))

/** One entry's text, with `@N@` where its number goes. */
function entryTemplate(path: string, responseJson: string): string {
  const res = sendSupportResponse()
  // A HAR holds the decoded body: the wire's encoding and framing headers go, as DevTools leaves them out.
  const resHeaders = res.headers.filter(([n]) => !/^(content-encoding|transfer-encoding)$/i.test(n))
  const entry = {
    startedDateTime: '@DATE@',
    time: 12.5,
    request: {
      method: 'POST',
      url: `https://api.example.test${path}`,
      httpVersion: 'HTTP/1.1',
      cookies: [{ name: 'client-session', value: TOKEN }],
      headers: harHeaders([
        ['Host', 'api.example.test'],
        ['Content-Type', 'application/json'],
        ['Accept', 'application/json'],
        ['Cookie', `client-session=${TOKEN}`],
        ['User-Agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'],
      ]),
      queryString: [],
      postData: { mimeType: 'application/json', text: sendSupportRequest(424242).replace('424242', '@N@') },
      headersSize: -1,
      bodySize: -1,
    },
    response: {
      status: 200,
      statusText: 'OK',
      httpVersion: 'HTTP/1.1',
      cookies: [],
      headers: harHeaders(resHeaders),
      content: { size: responseJson.length, mimeType: 'application/json; charset=utf-8', text: responseJson },
      redirectURL: '',
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0.5, wait: 11, receive: 1 },
  }
  return JSON.stringify(entry)
}

/** Writes a HAR of ENTRIES entries, send/support and history (Rels) answers alternating, of about TARGET_BYTES. */
async function writeHar(file: string): Promise<number> {
  const send = entryTemplate(API_PATH, sendSupportResponse().json)
  // The history answer's Rels are sized so that the file comes out at about TARGET_BYTES.
  let rels = 3
  let history = entryTemplate(RELS_PATH, relsEnvelope(rels))
  while ((send.length + history.length) / 2 < TARGET_BYTES / ENTRIES) history = entryTemplate(RELS_PATH, relsEnvelope((rels += 3)))
  const out = createWriteStream(file)
  const put = async (s: string) => {
    if (!out.write(s)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await put('{"log":{"version":"1.2","creator":{"name":"reltape-bench","version":"1"},"pages":[],"entries":[\n')
  for (let n = 1; n <= ENTRIES; n++) {
    const t = (n % 2 ? send : history).replace('@DATE@', new Date(T0 + n * 10).toISOString()).replace('@N@', String(n))
    await put(`${t}${n < ENTRIES ? ',' : ''}\n`)
  }
  out.end(']}}\n')
  await new Promise<void>((r) => out.once('finish', () => r()))
  return (await stat(file)).size
}

/** A child run of children/har-import.ts: its own time and its peak RSS at exit. */
async function child(args: string[], peakFile: string): Promise<{ ms: number; items: number; peak: number }> {
  const compiled = await compiledChild('har-import')
  const script = compiled ?? fileURLToPath(new URL('children/har-import.ts', import.meta.url))
  const node = [...(compiled ? [] : ['--import', 'tsx']), '-r', PRELOAD, script, ...args]
  await rm(peakFile, { force: true })
  const p = spawn(process.execPath, node, { env: { ...process.env, RELTAPE_BENCH_PEAK_FILE: peakFile }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  p.stdout.on('data', (d: Buffer) => (stdout += d))
  p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d).slice(-4000)))
  const timer = setTimeout(() => p.kill('SIGKILL'), 600_000)
  const code = await new Promise<number | null>((r) => p.once('exit', r))
  clearTimeout(timer)
  if (code !== 0) throw new Error(`har-import ${args[0]} exited ${code}: ${stderr}`)
  const r = JSON.parse(stdout) as { ms: number; items: number }
  return { ...r, peak: Number(await readFile(peakFile, 'utf8')) * 1024 }
}

export const har: Scenario = {
  name: 'har',
  describe: 'HAR import of ~100 MB (20,000 entries) vs JSON.parse (time, peak RSS), export of 10,000 exchanges vs writing the session file',
  async run({ quick, log }) {
    const reps = quick ? 1 : 3
    const tmp = await mkdtemp(join(tmpdir(), 'reltape-bench-har-'))
    try {
      const file = join(tmp, 'api.har')
      const size = await writeHar(file)
      log(`generated ${file}: ${ENTRIES} entries, ${(size / 2 ** 20).toFixed(1)} MB`)
      const peakFile = join(tmp, 'peak')
      const imp: number[] = []
      const parse: number[] = []
      const floor: number[] = []
      const ratios: number[] = []
      const floorRatios: number[] = []
      const peaks: number[] = []
      const parsePeaks: number[] = []
      // A warm-up of each (page cache, compiled child), then the repetitions, interleaved.
      await child(['parse', file], peakFile)
      for (let rep = 0; rep <= reps; rep++) {
        const dir = join(tmp, `sessions-${rep}`)
        const a = await child(['import', file, dir], peakFile)
        await rm(dir, { recursive: true, force: true })
        const b = await child(['parse', file], peakFile)
        const f = await child(['floor', file], peakFile)
        if (a.items !== ENTRIES || b.items !== ENTRIES || f.items !== ENTRIES) throw new Error(`import wrote ${a.items}, parse saw ${b.items}, floor ${f.items} of ${ENTRIES}`)
        log(`import ${a.ms.toFixed(0)} ms ${(a.peak / 2 ** 20).toFixed(0)} MB; JSON.parse ${b.ms.toFixed(0)} ms ${(b.peak / 2 ** 20).toFixed(0)} MB; floor ${f.ms.toFixed(0)} ms${rep === 0 ? ' (warm-up)' : ''}`)
        if (rep === 0) continue
        imp.push(a.ms)
        parse.push(b.ms)
        floor.push(f.ms)
        ratios.push(a.ms / b.ms)
        floorRatios.push(f.ms / b.ms)
        peaks.push(a.peak)
        parsePeaks.push(b.peak)
      }

      const sessions = join(tmp, 'export')
      await mkdir(sessions, { recursive: true })
      await writeSampleSession(sessions, 'big', EXPORT_EXCHANGES)
      const store = new SessionStore(sessions)
      const exp: number[] = []
      const wrt: number[] = []
      const expRatios: number[] = []
      for (let rep = 0; rep <= reps; rep++) {
        const outFile = join(tmp, `big-${rep}.har`)
        let t = performance.now()
        await exportHar(await store.reader('big'), outFile, {})
        const exportMs = performance.now() - t
        await rm(outFile, { force: true })
        const copyDir = join(tmp, `copy-${rep}`)
        t = performance.now()
        const reader = await store.reader('big')
        const writer = await new SessionStore(copyDir).open('big', { recording: reader.head.recording, warn: () => {} })
        for await (const e of reader.exchanges()) writer.append(e)
        await writer.close()
        const writeMs = performance.now() - t
        await rm(copyDir, { recursive: true, force: true })
        log(`export ${exportMs.toFixed(0)} ms; session file written ${writeMs.toFixed(0)} ms${rep === 0 ? ' (warm-up)' : ''}`)
        if (rep === 0) continue
        exp.push(exportMs)
        wrt.push(writeMs)
        expRatios.push(exportMs / writeMs)
      }

      const mb = size / 2 ** 20
      const importRatio = median(ratios)
      const rssRatio = median(peaks) / size
      const exportRatio = median(expRatios)
      const rows: ResultRow[] = [
        { scenario: 'har', metric: `HAR file imported (${ENTRIES.toLocaleString('en')} entries)`, value: mb, unit: 'MB', baseline: null, ratio: null },
        { scenario: 'har', metric: 'import (`importHar`, --all)', value: median(imp), unit: 'ms', baseline: 'JSON.parse of the same file', ratio: importRatio, spread: spread(imp), target: '≤ 2×', met: importRatio <= 2 },
        { scenario: 'har', metric: 'JSON.parse of the file (read whole)', value: median(parse), unit: 'ms', baseline: null, ratio: null, spread: spread(parse) },
        {
          scenario: 'har',
          metric: 'JSON work no import can skip',
          value: median(floor),
          unit: 'ms',
          baseline: 'JSON.parse of the same file',
          ratio: median(floorRatios),
          spread: spread(floor),
          note: "each entry parsed as the import's scanner finds it, each answer parsed and serialised again (the raw check); no checks, no writing (children/har-import.ts floor)",
        },
        { scenario: 'har', metric: 'import: peak RSS', value: median(peaks) / 2 ** 20, unit: 'MB', baseline: 'the HAR file size', ratio: rssRatio, spread: spread(peaks), target: '≤ 4×', met: rssRatio <= 4, note: 'VmHWM of the importing child at exit (lib/peak-rss.cjs), node itself included' },
        { scenario: 'har', metric: 'JSON.parse: peak RSS', value: median(parsePeaks) / 2 ** 20, unit: 'MB', baseline: 'the HAR file size', ratio: median(parsePeaks) / size, spread: spread(parsePeaks) },
        { scenario: 'har', metric: `export of ${EXPORT_EXCHANGES.toLocaleString('en')} exchanges to .har`, value: median(exp), unit: 'ms', baseline: 'the store writing them as a session file', ratio: exportRatio, spread: spread(exp), target: '≤ 1.5×', met: exportRatio <= 1.5, note: 'both read the session with the same SessionReader; the baseline appends every exchange to a SessionWriter (journal) and closes it (folded into the file, indexed)' },
        { scenario: 'har', metric: 'session file written (SessionWriter)', value: median(wrt), unit: 'ms', baseline: null, ratio: null, spread: spread(wrt) },
      ]
      return rows
    } finally {
      await rm(tmp, { recursive: true, force: true })
    }
  },
}
