import type { Command } from '../command.js'

// Placeholder until the demo part lands: the command is listed, and says so when run.
export const demoCommand: Command = {
  name: 'demo',
  summary: '(demo: not built yet)',
  options: {},
  async run() {
    throw new Error('reltape demo is not built yet')
  },
}
