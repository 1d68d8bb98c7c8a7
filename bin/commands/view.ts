import { dirOption, intOption, stringOption, untilStopped, type Command } from '../command.js'
import { sessionsDir } from '../../store/paths.js'
import { DEFAULT_HOST, DEFAULT_PORT, startViewer } from '../../viewer/server.js'

export const viewCommand: Command = {
  name: 'view',
  summary: 'open the viewer: sessions, envelopes and their Rels graphs in the browser',
  options: {
    ...dirOption,
    port: { type: 'string', valueName: 'PORT', description: `port to listen on (default ${DEFAULT_PORT})` },
    host: { type: 'string', valueName: 'HOST', description: `address to bind (default ${DEFAULT_HOST}; the viewer answers only this host and loopback names)` },
  },
  details: [
    'The viewer reads the sessions directory live: new sessions and exchanges appear without a restart.',
    'Rels overrides (field → Rels type) come from reltape.config.json, e.g. {"rels": {"AvatarId": "Files"}}.',
    'Example: reltape view --port 4000',
  ].join('\n'),
  async run({ values }) {
    const dir = sessionsDir(stringOption(values, 'dir'))
    const viewer = await startViewer({ dir, port: intOption(values, 'port', DEFAULT_PORT, 0), host: stringOption(values, 'host') ?? DEFAULT_HOST })
    console.log(`reltape view: ${viewer.url}`)
    console.log(`  sessions: ${dir}`)
    console.log('Ctrl-C stops.')
    await untilStopped()
    await viewer.close()
  },
}
