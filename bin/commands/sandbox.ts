import { intOption, stringOption, untilStopped, type Command } from '../command.js'
// Not sandbox/index.js: that also loads the story client, whose undici is only a dev dependency.
import { startSandbox } from '../../sandbox/server.js'
import { SANDBOX_TOKENS } from '../../sandbox/tokens.js'

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'run a local HTTPS stand-in for the API (envelopes, Rels, files, errors) to record from',
  options: {
    port: { type: 'string', valueName: 'PORT', description: 'HTTPS port of the API (default 8443; 0 picks a free one)' },
    host: { type: 'string', valueName: 'HOST', description: 'address to bind (default 127.0.0.1)' },
    verbose: { type: 'boolean', short: 'v', description: 'print one line per API call' },
    drift: { type: 'boolean', description: 'serve drifted data (the customer renamed, their ticket closed), same tokens, to try `reltape verify` on' },
  },
  details: `
The API lives under https://localhost:PORT/public/api/v1/ and trusts reltape's CA (see \`reltape ca\`).
Its two tokens are fake and fixed: they open nothing but the sandbox.
--drift changes its data the way a live API drifts: client 11 is renamed "Ivan Petrov-Vodkin" and has no open
ticket left; tokens, ids and every other answer stay the same.`,
  async run({ values }) {
    const port = intOption(values, 'port', 8443)
    const host = stringOption(values, 'host') ?? '127.0.0.1'
    const sandbox = await startSandbox({ port, host, drift: values.drift === true, ...(values.verbose ? { log: (line: string) => console.log(line) } : {}) })
    console.log(`sandbox API:  ${sandbox.url}/public/api/v1/`)
    console.log(`app page:     ${sandbox.appUrl}`)
    console.log(`CA to trust:  ${sandbox.caCertPath}`)
    if (values.drift) console.log('drift:        client 11 renamed "Ivan Petrov-Vodkin", its ticket closed (TotalOpenTickets 0)')
    console.log(`customer token: ${SANDBOX_TOKENS.customer}`)
    console.log(`operator token: ${SANDBOX_TOKENS.operator}`)
    console.log('try:')
    console.log(`  curl --compressed --cacert ${sandbox.caCertPath} -H 'Authorization: Client ${SANDBOX_TOKENS.customer}' -H 'Content-Type: application/json' -d '{}' ${sandbox.url}/public/api/v1/chats/history`)
    console.log('Ctrl-C stops it.')
    await untilStopped()
    await sandbox.close()
    console.log('sandbox stopped')
  },
}
