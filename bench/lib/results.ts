/**
 * bench/results/latest.json: one row per measured number, merged by scenario (a run of one scenario replaces
 * that scenario's rows and keeps the others), and bench/results/latest.md, the table for the README.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import { round } from './stats.js'

export type ResultRow = {
  scenario: string
  metric: string
  value: number | null
  unit: string
  /** What the value is compared with, in words (`mockttp bare`), or null. */
  baseline: string | null
  /** value / baseline's value (or the difference, for unit `ms over`), or null. */
  ratio: number | null
  /** (max − min) / median over the repetitions, as a fraction. */
  spread?: number
  /** The issue's target for this row, in words, and whether this run met it. */
  target?: string
  met?: boolean
  note?: string
}

export type Machine = { cores: number; cpu: string; node: string; os: string; mitmdump: string | null }

/** When and how each scenario's rows were measured (a file can merge runs of different scenarios). */
export type ScenarioRun = { at: string; command: string; quick: boolean }

export type Results = { updatedAt: string; command: string; machine: Machine; runs: Record<string, ScenarioRun>; rows: ResultRow[] }

const dir = fileURLToPath(new URL('../results/', import.meta.url))
const jsonFile = `${dir}latest.json`
const mdFile = `${dir}latest.md`

export function machine(): Machine {
  let mitmdump: string | null = null
  try {
    mitmdump = execFileSync('mitmdump', ['--version'], { encoding: 'utf8', timeout: 20_000 }).split('\n')[0]?.trim() ?? null
  } catch {
    mitmdump = null
  }
  let os = process.platform as string
  try {
    os = /PRETTY_NAME="([^"]+)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os
  } catch {
    // not Linux: the platform name will do
  }
  return { cores: cpus().length, cpu: cpus()[0]?.model.trim() ?? 'unknown', node: process.version, os, mitmdump }
}

export function readResults(): Results | null {
  if (!existsSync(jsonFile)) return null
  return JSON.parse(readFileSync(jsonFile, 'utf8')) as Results
}

/** Replaces the rows of the scenarios that ran, keeps the others, and rewrites both files. */
export function saveResults(ran: string[], rows: ResultRow[], command: string, quick: boolean): Results {
  const previous = readResults()
  const kept = (previous?.rows ?? []).filter((r) => !ran.includes(r.scenario))
  const at = new Date().toISOString()
  const runs = { ...(previous?.runs ?? {}) }
  for (const name of ran) runs[name] = { at, command, quick }
  const results: Results = { updatedAt: at, command: 'npm run bench', machine: machine(), runs, rows: [...kept, ...rows] }
  mkdirSync(dir, { recursive: true })
  writeFileSync(jsonFile, `${JSON.stringify(results, null, 2)}\n`)
  writeFileSync(mdFile, markdown(results))
  return results
}

function fmt(value: number | null, digits = 3): string {
  if (value === null || Number.isNaN(value)) return '—'
  return String(round(value, digits))
}

function ratioText(row: ResultRow): string {
  if (row.ratio === null) return ''
  return row.unit.endsWith('over baseline') ? `+${fmt(row.ratio)} ms` : `${fmt(row.ratio)}×`
}

export function markdown(results: Results): string {
  const m = results.machine
  const when = Object.entries(results.runs ?? {})
    .map(([name, r]) => `${name} ${r.at.slice(0, 16).replace('T', ' ')}${r.quick ? ' (**--quick**: smoke run, not for quoting)' : ''}`)
    .join(', ')
  const lines = [
    `Measured on ${m.cores} cores (${m.cpu}), ${m.os}, Node ${m.node}` +
      (m.mitmdump ? `, ${m.mitmdump.replace(/^Mitmproxy:\s*/, 'mitmproxy ')}` : ', mitmdump not installed') +
      ` (UTC: ${when}); reproduce with \`${results.command}\` (see bench/README.md).`,
    'Ratios compare numbers taken in the same run (repetitions interleaved A B A B …, medians); spread is (max − min) / median over the repetitions.',
  ]
  const header = ['| scenario | metric | value | unit | baseline | ratio | spread | target | met |', '|---|---|---:|---|---|---:|---:|---|:-:|']
  const targets = results.rows.filter((r) => r.target)
  lines.push('', '### Targets', '', ...header)
  for (const r of targets) lines.push(row(r))
  lines.push('', '### Every measurement', '', ...header)
  for (const r of results.rows) lines.push(row(r))
  const notes = results.rows.filter((r) => r.note)
  if (notes.length) {
    lines.push('')
    for (const r of notes) lines.push(`- ${r.scenario} / ${r.metric}: ${r.note}`)
  }
  return `${lines.join('\n')}\n`
}

function row(r: ResultRow): string {
  const met = r.met === undefined ? '' : r.met ? 'yes' : '**no**'
  return `| ${r.scenario} | ${r.metric} | ${fmt(r.value)} | ${r.unit} | ${r.baseline ?? ''} | ${ratioText(r)} | ${r.spread === undefined ? '' : `${Math.round(r.spread * 100)}%`} | ${r.target ?? ''} | ${met} |`
}

/** Prints rows as a console table. */
export function printTable(title: string, rows: ResultRow[]): void {
  console.log(`\n${title}`)
  console.table(
    rows.map((r) => ({
      metric: r.metric,
      value: fmt(r.value),
      unit: r.unit,
      baseline: r.baseline ?? '',
      ratio: ratioText(r),
      spread: r.spread === undefined ? '' : `${Math.round(r.spread * 100)}%`,
      target: r.target ?? '',
      met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
    })),
  )
}
