import type { Command } from '../command.js'

// Placeholder until the view part lands: the command is listed, and says so when run.
export const viewCommand: Command = {
  name: 'view',
  summary: '(view: not built yet)',
  options: {},
  async run() {
    throw new Error('reltape view is not built yet')
  },
}
