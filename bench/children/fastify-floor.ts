/** The replay floor: a bare fastify route answering every POST with the same constant JSON body. */
import Fastify from 'fastify'
import { API_PATH, sendSupportResponse } from '../lib/envelope.js'
import { childConfig, fail, ready } from './protocol.js'

childConfig<Record<string, never>>()
const body = Buffer.from(sendSupportResponse().json)
const app = Fastify({ logger: false })
app.post(API_PATH, async (_req, reply) => reply.type('application/json; charset=utf-8').send(body))
try {
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  ready({ url: address })
} catch (e) {
  fail(e)
}
