/** The sandbox's drift switch: the customer renamed and their ticket closed; tokens and every other answer the same. */
import { describe, expect, it } from 'vitest'
import { buildSandboxApp, SANDBOX_DRIFT, SANDBOX_TOKENS } from '../sandbox/index.js'

async function answers(drift: boolean): Promise<unknown[]> {
  const app = buildSandboxApp({ drift })
  const call = async (method: string, body: unknown) => {
    const res = await app.inject({
      method: 'POST',
      url: `/public/api/v1/${method}`,
      headers: { 'content-type': 'application/json', authorization: `Client ${SANDBOX_TOKENS.operator}` },
      payload: JSON.stringify(body),
    })
    return res.json<unknown>()
  }
  try {
    return [await call('chats/history', { ChatId: 10 }), await call('clients/get', { Id: 11 }), await call('clients/get', { Id: 12 }), await call('tickets/close', { Id: 1 })]
  } finally {
    await app.close()
  }
}

describe('sandbox drift', () => {
  it('changes the customer and nothing else, with the same tokens', async () => {
    const plain = await answers(false)
    const drifted = await answers(true)
    expect((drifted[1] as { OK: boolean; Result: unknown }).OK).toBe(true)
    expect(drifted[1]).toMatchObject({ Result: { Id: SANDBOX_DRIFT.clientId, ...SANDBOX_DRIFT.after } })
    expect(plain[1]).toMatchObject({ Result: { Id: SANDBOX_DRIFT.clientId, ...SANDBOX_DRIFT.before } })
    // Put the two fields of the customer back wherever the customer appears, and every answer is the plain one.
    const undo = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(undo)
      if (typeof v !== 'object' || v === null) return v
      const o = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, undo(x)]))
      return o.Id === SANDBOX_DRIFT.clientId && 'TotalOpenTickets' in o ? { ...o, ...SANDBOX_DRIFT.before } : o
    }
    expect(JSON.stringify(drifted)).not.toBe(JSON.stringify(plain))
    expect(JSON.stringify(undo(drifted))).toBe(JSON.stringify(plain))
  })
})
