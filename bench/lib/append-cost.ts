/**
 * The store alone: how long `SessionWriter.append` takes for exchanges near 100 and near 10,000 of one
 * session (each journaled at once), so a growth in the recorder's cost can be told from one in the store.
 */
import { join } from 'node:path'
import { SessionStore } from '../../store/store.js'
import { sendSupportExchange } from './session-fixture.js'
import { median } from './stats.js'

export async function appendCost(dir: string, total: number, window: number): Promise<{ earlyUs: number; lateUs: number; closeMs: number }> {
  const writer = await new SessionStore(join(dir, 'append-cost')).open('append-cost', { recording: { tool: 'reltape-bench', mode: 'forward', upstream: null }, warn: () => {} })
  const early: number[] = []
  const late: number[] = []
  for (let n = 0; n < total; n++) {
    const exchange = sendSupportExchange(writer.nextSeq(), n)
    const t0 = performance.now()
    writer.append(exchange)
    const us = (performance.now() - t0) * 1000
    if (n >= 100 - window / 2 && n < 100 + window / 2) early.push(us)
    if (n >= total - window) late.push(us)
  }
  const t0 = performance.now()
  await writer.close()
  return { earlyUs: median(early), lateUs: median(late), closeMs: performance.now() - t0 }
}
