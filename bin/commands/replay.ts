import type { Command } from '../command.js'

// Placeholder until the replay part lands: the command is listed, and says so when run.
export const replayCommand: Command = {
  name: 'replay',
  summary: '(replay: not built yet)',
  options: {},
  async run() {
    throw new Error('reltape replay is not built yet')
  },
}
