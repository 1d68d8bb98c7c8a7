/**
 * The replay floor: a bare fastify route answering every POST with the same constant JSON body. With
 * `recordedHeaders`, it also sends the example's recorded response headers (less hop-by-hop, length and
 * encoding, as replay drops them): a floor that does the same HTTP work as replaying a real exchange.
 */
import Fastify from 'fastify'
import { API_PATH, sendSupportResponse } from '../lib/envelope.js'
import { childConfig, fail, ready } from './protocol.js'

const config = childConfig<{ recordedHeaders?: boolean }>()
const example = sendSupportResponse()
const body = Buffer.from(example.json)
const headers: Record<string, string> = {}
if (config.recordedHeaders)
  for (const [name, value] of example.headers)
    if (!/^(connection|transfer-encoding|content-length|content-encoding)$/i.test(name)) headers[name.toLowerCase()] = value
const app = Fastify({ logger: false })
app.post(API_PATH, async (_req, reply) => reply.headers(headers).type('application/json; charset=utf-8').send(body))
try {
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  ready({ url: address })
} catch (e) {
  fail(e)
}
