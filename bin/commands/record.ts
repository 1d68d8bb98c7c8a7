import type { Command } from '../command.js'

// Placeholder until the record part lands: the command is listed, and says so when run.
export const recordCommand: Command = {
  name: 'record',
  summary: '(record: not built yet)',
  options: {},
  async run() {
    throw new Error('reltape record is not built yet')
  },
}
