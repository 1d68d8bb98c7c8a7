/** A recording whose body the recorder cut at --max-body: replay serves what was kept, and says it is not the whole. */
import { describe, expect, it } from 'vitest'
import { startReplay } from '../../replay/start-replay.js'
import { SESSION_FORMAT, type Session } from '../../model/session.js'
import { makeExchange } from '../helpers/exchange-factory.js'

describe('a truncated recording in replay', () => {
  it('is served with a warning header and a log line naming the exchange', async () => {
    const exchange = makeExchange(1)
    exchange.response = { ...exchange.response!, body: { kind: 'text', text: 'the first bytes', contentType: 'text/plain', size: 5_000_000, truncated: true } }
    const session: Session = { format: SESSION_FORMAT, name: 'cut', createdAt: new Date().toISOString(), recording: { tool: 't', mode: 'forward', upstream: null }, identities: [], exchanges: [exchange] }
    const log: string[] = []
    const replay = await startReplay({ session, log: (l) => log.push(l) })
    try {
      const res = await fetch(`${replay.url}/public/api/v1/chats/channel/send/support`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(exchange.request.body.kind === 'json' ? exchange.request.body.json : {}) })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('the first bytes')
      expect(res.headers.get('x-reltape-truncated')).toBe('recorded 5000000 bytes; the recorder kept the first 15')
      expect(log.some((l) => /^WARN #1 POST .*cut by the recorder/.test(l))).toBe(true)
    } finally {
      await replay.close()
    }
  })
})
