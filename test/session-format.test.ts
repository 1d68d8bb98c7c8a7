/** The session file format is a contract: golden files lock it, broken ones must give clear errors. */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkSessionName, parseSession, SessionFormatError, SESSION_FORMAT } from '../model/session.js'
import { parseJsonText } from '../model/json-text.js'

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', 'sessions', name)
const load = (name: string) => parseSession(parseJsonText(readFileSync(fixture(name), 'utf8'), fixture(name)), fixture(name))

function errorOf(fn: () => unknown): SessionFormatError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(SessionFormatError)
    return e as SessionFormatError
  }
  throw new Error('expected a SessionFormatError')
}

describe('the session format', () => {
  it('reads the golden example: the API.md exchange by cookie and by header, and a transport failure', () => {
    const s = load('example.json')
    expect(s.format).toBe(SESSION_FORMAT)
    expect(s.exchanges.map((e) => e.seq)).toEqual([1, 2, 3])
    expect(s.exchanges[0]!.request.auth).toEqual({ via: 'cookie', identity: 'identity-1' })
    expect(s.exchanges[1]!.request.auth).toEqual({ via: 'authorization', identity: 'identity-1' })
    expect(s.exchanges[0]!.request.headers[0]).toEqual(['Host', 'dev.iqstore.ru'])
    expect(s.exchanges[2]!.response).toBeNull()
    expect(s.exchanges[2]!.error?.code).toBe('UPSTREAM_UNREACHABLE')
  })

  it('names the file and the line of a truncated file', () => {
    const e = errorOf(() => load('broken-truncated.json'))
    expect(e.message).toContain('broken-truncated.json')
    expect(e.message).toMatch(/line \d+, column \d+/)
    expect(e.message).toMatch(/not valid JSON/)
  })

  it('says which format it reads when the file has an unknown one', () => {
    const e = errorOf(() => load('broken-unknown-format.json'))
    expect(e.path).toBe('$.format')
    expect(e.message).toContain('"reltape.session/9"')
    expect(e.message).toContain(SESSION_FORMAT)
  })

  it('names the JSON path of a relative URL', () => {
    const e = errorOf(() => load('broken-relative-url.json'))
    expect(e.path).toBe('$.exchanges[1].request.url')
    expect(e.message).toContain('broken-relative-url.json')
  })

  it('names the JSON path of an unknown body kind and lists the known ones', () => {
    const e = errorOf(() => load('broken-body-kind.json'))
    expect(e.path).toBe('$.exchanges[0].response.body.kind')
    expect(e.message).toContain('"multipart"')
  })

  it('tells a file that is not a session at all', () => {
    const e = errorOf(() => load('broken-not-a-session.json'))
    expect(e.message).toMatch(/is this a reltape session file/)
  })

  it('accepts plain session names and refuses path segments, dots and empty names', () => {
    expect(checkSessionName('demo-2026-11-24_10-00-00')).toBeNull()
    for (const bad of ['', '../x', 'a/b', 'a\\b', '.', '..', '.hidden', 'a b'])
      expect(checkSessionName(bad), JSON.stringify(bad)).not.toBeNull()
  })
})
