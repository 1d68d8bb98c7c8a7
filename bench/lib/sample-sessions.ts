/**
 * Sessions of the committed sample's shape at any size: its exchanges cycled (new seq, id and start time), written
 * straight to disk in reltape's own layout (head, one exchange per line, identities after), streamed, so that a
 * 300,000-exchange session is made in seconds without ever being held in memory.
 */
import { createWriteStream } from 'node:fs'
import { join } from 'node:path'
import { readSessionFiles } from '../../store/store.js'
import { pathsOfFile } from '../../store/paths.js'

const SAMPLE = new URL('../../sessions/sample-support-chat.json', import.meta.url).pathname
const T0 = Date.UTC(2026, 0, 1)

/** Writes `<dir>/<name>.json` with `count` exchanges cycled from the sample; returns its path. */
export async function writeSampleSession(dir: string, name: string, count: number): Promise<string> {
  const sample = await readSessionFiles(pathsOfFile(SAMPLE))
  const { exchanges, identities, ...head } = sample
  const texts = exchanges.map((e) => JSON.stringify({ ...e, seq: 0, id: '', startedAt: '' }))
  const file = join(dir, `${name}.json`)
  const out = createWriteStream(file, { mode: 0o600 })
  const opening = JSON.stringify({ ...head, name, exchanges: [] }, null, 2)
  out.write(opening.slice(0, opening.lastIndexOf('[]')) + '[\n')
  for (let seq = 1; seq <= count; seq++) {
    const template = texts[(seq - 1) % texts.length]!
    const line = template
      .replace('"seq":0', `"seq":${seq}`)
      .replace('"id":""', `"id":"sample-${seq}"`)
      .replace('"startedAt":""', `"startedAt":"${new Date(T0 + seq * 10).toISOString()}"`)
    if (!out.write(`    ${line}${seq < count ? ',' : ''}\n`)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  out.end(`  ],\n  "identities": ${JSON.stringify(identities, null, 2).replace(/\n/g, '\n  ')}\n}\n`)
  await new Promise<void>((r) => out.once('finish', () => r()))
  return file
}
