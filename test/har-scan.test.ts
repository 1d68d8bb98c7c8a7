/**
 * The HAR scanner reads what JSON.parse reads, however the bytes arrive: entries and log keys from documents full of
 * escaped quotes, backslashes, brackets inside strings and multi-byte characters, cut into chunks of 1 to 7 bytes
 * (a byte-order mark split too), and it fails on a document cut short.
 */
import { describe, expect, it } from 'vitest'
import { HarFormatError } from '../model/har.js'
import { scanHar } from '../store/har-scan.js'

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number): (n: number) => number {
  let s = seed >>> 0
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return s % n
  }
}

const PIECES = ['\\"', '\\\\', '"', '{', '}', '[', ']', 'a', 'é', '\u2028', '\\u0041', ' ', ',', '😀']

async function* chunked(buf: Buffer, rnd: (n: number) => number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; ) {
    const n = 1 + rnd(7)
    yield buf.subarray(i, i + n)
    i += n
  }
}

describe('scanHar', () => {
  it('reads every entry and log key as JSON.parse does, from chunks of any size', async () => {
    const rnd = random(20261125)
    const str = () => Array.from({ length: rnd(20) }, () => PIECES[rnd(PIECES.length)]!).join('')
    for (let t = 0; t < 200; t++) {
      const entries = Array.from({ length: rnd(5) }, () => ({ startedDateTime: str(), n: [1, -2.5e3, true, null, { k: str() }], [str()]: str() }))
      const doc = { before: { x: [str()] }, log: { version: '1.2', creator: { name: str() }, entries, after: str() }, post: 1 }
      const text = (rnd(2) ? '\ufeff' : '') + JSON.stringify(doc, null, rnd(2) ? 2 : 0)
      const got: unknown[] = []
      const keys: Record<string, unknown> = {}
      const result = await scanHar(chunked(Buffer.from(text), rnd), 'doc.har', {
        onEntry: (v, i) => {
          expect(i).toBe(got.length)
          got.push(v)
        },
        onLogKey: (k, v) => {
          keys[k] = v
        },
      })
      expect(result.entries).toBe(entries.length)
      expect(got).toEqual(entries)
      expect(keys).toEqual({ version: '1.2', creator: doc.log.creator, after: doc.log.after })
    }
  })

  it('fails on a document cut short, naming the entry it was in', async () => {
    const text = JSON.stringify({ log: { entries: [{ a: 1 }, { b: 'x'.repeat(100) }] } })
    const error = await scanHar(chunked(Buffer.from(text.slice(0, 60)), random(1)), 'cut.har', { onEntry: () => {} }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(HarFormatError)
    expect((error as Error).message).toMatch(/^cut\.har: log\.entries\[1\]: the file ends before the JSON does/)
  })
})
