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
    'no-auth': { type: 'boolean', description: "serve the API without this run's access token (warns: anyone who can reach the port reads the sessions)" },
  },
  details: [
    'The viewer reads the sessions directory live: new sessions and exchanges appear without a restart.',
    'Its link holds an access token made for this run (…/?token=…): the API answers only requests that bring it.',
    'Rels overrides (field → Rels type) come from reltape.config.json, e.g. {"rels": {"AvatarId": "Files"}}.',
    'Example: reltape view --port 4000',
  ].join('\n'),
  async run({ values }) {
    const dir = sessionsDir(stringOption(values, 'dir'))
    const auth = values['no-auth'] !== true
    const viewer = await startViewer({ dir, port: intOption(values, 'port', DEFAULT_PORT, 0), host: stringOption(values, 'host') ?? DEFAULT_HOST, auth })
    console.log(`reltape view: ${viewer.url}`)
    console.log(`  sessions: ${dir}`)
    if (auth) console.log('  open this link: it holds the access token for this run; without it the API answers 401')
    else console.error('reltape view: warning: --no-auth: the API answers anyone who can reach this port, any local user included, and sessions hold live tokens')
    console.log('Ctrl-C stops.')
    await untilStopped()
    await viewer.close()
  },
}
