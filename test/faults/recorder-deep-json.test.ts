/**
 * A body nested past the depth every part of reltape walks is stored by the recorder as its text: replay serves it
 * byte for byte and the viewer shows it as text, and nothing writes a session that cannot be serialised again.
 */
import { describe, expect, it } from 'vitest'
import { MAX_JSON_DEPTH } from '../../model/json-depth.js'
import { classifyBody } from '../../store/body-decode.js'

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth)

describe('the recorder and deep JSON', () => {
  it('keeps JSON deeper than the limit as text, and JSON within it parsed', () => {
    const deep = nested(MAX_JSON_DEPTH + 500)
    expect(classifyBody(Buffer.from(deep), 'application/json', { maxBody: 1 << 20 })).toEqual({ kind: 'text', text: deep, contentType: 'application/json', size: deep.length })
    expect(classifyBody(Buffer.from(nested(10)), 'application/json', { maxBody: 1 << 20 }).kind).toBe('json')
  })
})
