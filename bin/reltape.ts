#!/usr/bin/env node
/**
 * The reltape CLI: parses arguments, runs one subcommand, maps errors to exit codes through the error registry
 * (model/errors.ts: 0 ok, 1 runtime error, 2 usage error). Stack traces only with RELTAPE_DEBUG=1.
 */
import { parseArgs } from 'node:util'
import { UsageError, type Command } from './command.js'
import { commands } from './commands/index.js'
import { errorInfo } from '../model/errors.js'
import { version } from '../store/version.js'


function helpFor(cmd: Command): string {
  const lines = [`Usage: reltape ${cmd.name}${cmd.args ? ' ' + cmd.args : ''} [options]`, '', cmd.summary, '', 'Options:']
  const entries = Object.entries(cmd.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : ''}--${name}${o.type === 'string' ? ` ${o.valueName ?? 'VALUE'}` : ''}`
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const
  })
  entries.push(['-h, --help', 'show this help'])
  const width = Math.max(...entries.map(([f]) => f.length)) + 2
  for (const [f, d] of entries) lines.push(`  ${f.padEnd(width)}${d}`)
  if (cmd.details) lines.push('', cmd.details.trim())
  return lines.join('\n')
}

async function mainHelp(): Promise<string> {
  const loaded = await Promise.all(commands.map((c) => c.load()))
  const width = Math.max(...loaded.map((c) => c.name.length)) + 2
  return [
    `reltape ${version}: record, inspect and replay a JSON envelope API`,
    '',
    'Usage: reltape <command> [options]',
    '',
    'Commands:',
    ...loaded.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Run `reltape <command> --help` for a command\'s options.',
  ].join('\n')
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const topic = name === 'help' ? commands.find((c) => c.name === rest[0]) : undefined
    console.log(topic ? helpFor(await topic.load()) : await mainHelp())
    return 0
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    console.log(version)
    return 0
  }
  const entry = commands.find((c) => c.name === name)
  if (!entry) throw new UsageError(`unknown command ${JSON.stringify(name)}; commands: ${commands.map((c) => c.name).join(', ')}`)
  const cmd = await entry.load()
  const options = Object.fromEntries(Object.entries(cmd.options).map(([k, { description: _d, valueName: _v, ...o }]) => [k, o]))
  let parsed
  try {
    parsed = parseArgs({ args: rest, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]} (see \`reltape ${cmd.name} --help\`)`)
  }
  if (parsed.values.help) {
    console.log(helpFor(cmd))
    return 0
  }
  const { min, max } = cmd.positionals ?? { min: 0, max: 0 }
  if (parsed.positionals.length < min) throw new UsageError(`reltape ${cmd.name} needs ${cmd.args ?? 'an argument'} (see \`reltape ${cmd.name} --help\`)`)
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[max])} for reltape ${cmd.name}`)
  return (await cmd.run(parsed as never)) ?? 0
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    const err = e as Error | undefined
    // The registry gives the exit code (2 for usage and option errors, 1 otherwise) and the code a user can search for.
    const { code, exit } = errorInfo(e)
    console.error(`reltape: ${err?.message ?? String(e)}${code ? ` [${code}]` : ''}`)
    if (process.env.RELTAPE_DEBUG === '1') console.error(err?.stack)
    else if (!code) console.error('(set RELTAPE_DEBUG=1 for the stack trace)')
    process.exitCode = exit
  },
)
