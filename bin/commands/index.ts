import type { Command } from '../command.js'

/** A subcommand by name, loaded only when it runs (or for `--help`): `reltape sessions` need not load mockttp. */
export type CommandEntry = { name: string; load(): Promise<Command> }

/** Every subcommand, in the order `reltape --help` lists them. */
export const commands: CommandEntry[] = [
  { name: 'demo', load: async () => (await import('./demo.js')).demoCommand },
  { name: 'record', load: async () => (await import('./record.js')).recordCommand },
  { name: 'view', load: async () => (await import('./view.js')).viewCommand },
  { name: 'replay', load: async () => (await import('./replay.js')).replayCommand },
  { name: 'sessions', load: async () => (await import('./sessions.js')).sessionsCommand },
  { name: 'import', load: async () => (await import('./import.js')).importCommand },
  { name: 'export', load: async () => (await import('./export.js')).exportCommand },
  { name: 'find', load: async () => (await import('./find.js')).findCommand },
  { name: 'diff', load: async () => (await import('./diff.js')).diffCommand },
  { name: 'verify', load: async () => (await import('./verify.js')).verifyCommand },
  { name: 'sandbox', load: async () => (await import('./sandbox.js')).sandboxCommand },
  { name: 'ca', load: async () => (await import('./ca.js')).caCommand },
]
