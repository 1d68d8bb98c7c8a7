import type { Command } from '../command.js'

// Placeholder until the sandbox part lands: the command is listed, and says so when run.
export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: '(sandbox: not built yet)',
  options: {},
  async run() {
    throw new Error('reltape sandbox is not built yet')
  },
}
