/**
 * The upstream API for the recording benchmarks: HTTPS on loopback with a certificate from reltape's CA,
 * answering each POST with the example envelope, gzip-encoded and chunked, as the real server does.
 * Bodies are compressed once at start: the upstream should cost as little as possible.
 */
import { createServer } from 'node:https'
import { gzipSync } from 'node:zlib'
import { API_PATH, RELS_PATH, relsEnvelope, sendSupportResponse } from '../lib/envelope.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ cert: string; key: string }>()
const example = sendSupportResponse()
const headers = example.headers.filter(([name]) => !/^(date|transfer-encoding|connection)$/i.test(name)).flat()
const envelope = gzipSync(example.json)
const rels = gzipSync(relsEnvelope(500))

const server = createServer({ cert: config.cert, key: config.key, keepAlive: true }, (req, res) => {
  req.on('data', () => {})
  req.on('end', () => {
    const body = req.url === RELS_PATH ? rels : req.url === API_PATH ? envelope : null
    if (!body) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, headers)
    res.end(body)
  })
})
server.keepAliveTimeout = 60_000
server.listen(0, '127.0.0.1', () => {
  const address = server.address()
  if (!address || typeof address !== 'object') fail(new Error('upstream has no address'))
  ready({ url: `https://localhost:${address.port}`, port: address.port })
})
