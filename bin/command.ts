/** What a subcommand is, and the usage error (exit 2) its arguments can raise. */
import type { ParseArgsConfig } from 'node:util'
import { ReltapeError } from '../model/errors.js'

export type OptionSpec = NonNullable<ParseArgsConfig['options']>[string] & {
  /** One line for `--help`. */
  description: string
  /** Shown in `--help` as the value's name, e.g. `PORT`. */
  valueName?: string
}

export type ParsedArgs = {
  values: Record<string, string | boolean | string[] | boolean[] | undefined>
  positionals: string[]
}

export type Command = {
  name: string
  /** One line for the command list. */
  summary: string
  /** The positional part of the usage line, e.g. `SESSION`. */
  args?: string
  options: Record<string, OptionSpec>
  /** Extra lines for `--help`: examples, notes. */
  details?: string
  /** How many positionals it takes (default 0). */
  positionals?: { min: number; max: number }
  run(args: ParsedArgs): Promise<number | void>
}

/** A mistake in how the command was called: one line on stderr, exit 2. */
export class UsageError extends ReltapeError<'USAGE'> {
  constructor(problem: string) {
    super('USAGE', { problem })
    this.name = 'UsageError'
  }
}

/** Reads an integer option; throws UsageError naming the flag when it is not one. */
export function intOption(values: ParsedArgs['values'], name: string, fallback: number, min = 0, max = 65535): number {
  const raw = values[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || n < min || n > max)
    throw new UsageError(`--${name} takes a whole number from ${min} to ${max}, not ${JSON.stringify(raw)}`)
  return n
}

export function stringOption(values: ParsedArgs['values'], name: string): string | undefined {
  const v = values[name]
  return typeof v === 'string' ? v : undefined
}

export function listOption(values: ParsedArgs['values'], name: string): string[] {
  const v = values[name]
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : []
}

/** Options most commands share. */
export const dirOption: Record<string, OptionSpec> = {
  dir: { type: 'string', valueName: 'DIR', description: 'sessions directory (default: $RELTAPE_DIR, else ./sessions)' },
}

/** Resolves when the process is asked to stop (Ctrl-C or SIGTERM). */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      resolve(signal)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
}
