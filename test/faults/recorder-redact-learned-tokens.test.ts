/**
 * A tester records a login with `--redact` to share the session: the token first appears in the login answer's body,
 * then rides in `Authorization: Client …`, percent-encoded in a query string and base64-encoded in a cookie. None of
 * its forms reaches the session file (nor anything else left in the sessions directory) or the screen; the login
 * answer, journaled before the token was known to be one, is redacted before the session file is written.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { Exchange, Session } from '../../model/session.js'
import { redactExchange, Secrets } from '../../store/redact.js'
import { withBody, startHttpUpstream, startRecorderEnv, type RecorderEnv, type Upstream } from '../helpers/recorder-env.js'

/** A token in the shape of base64, with the characters a URL must escape: `/`, `+` and `=`. */
const TOKEN = 'q8/Zx+3mKd=Lp0/Vb+7Nw2Yh9/Tr+5Ec1Ua4/Os+6Ig8Jf2Qa'
const percent = encodeURIComponent(TOKEN)
const FORMS = {
  raw: TOKEN,
  percent,
  'percent, lower-case hex': percent.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()),
  base64: Buffer.from(TOKEN).toString('base64'),
  base64url: Buffer.from(TOKEN).toString('base64url'),
}

function formsIn(text: string): string[] {
  return Object.entries(FORMS)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name)
}

let env: RecorderEnv | undefined
let up: Upstream | undefined
afterEach(async () => {
  await env?.close()
  await up?.close()
  env = up = undefined
})

async function startUpstream(): Promise<Upstream> {
  return startHttpUpstream((req, res) => {
    withBody(req, () => {
      const body = req.url?.startsWith('/public/api/v1/auth/login')
        ? { OK: true, Error: null, Result: { Token: TOKEN, Expires: 3600 } }
        : { OK: true, Error: null, Result: { Path: req.url } }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body))
    })
  })
}

async function call(path: string, headers: Record<string, string> = {}, body: unknown = {}): Promise<void> {
  const res = await request(`${up!.url}/public/api/v1/${path}`, {
    method: 'POST',
    dispatcher: env!.proxy,
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  await res.body.text()
}

describe('--redact and a token learned from a login answer', () => {
  it('replaces every form of the token everywhere, including in what was journaled before it was known', async () => {
    up = await startUpstream()
    env = await startRecorderEnv({ redact: true, session: 'login' })
    await call('auth/login', {}, { User: 'tester', Password: 'pw' })
    await call('chats/history', { Authorization: `Client ${TOKEN}` })
    await call(`files/download?token=${FORMS.percent}&lower=${FORMS['percent, lower-case hex']}`, { Authorization: `Client ${TOKEN}` })
    await call('clients/get', { Cookie: `theme=dark; auth=${FORMS.base64}; auth2=${FORMS.base64url}` }, { Note: `pasted ${TOKEN}` })
    await env.rec.settle()
    const file = env.rec.sessionFile
    await env.rec.stop()

    const text = await readFile(file, 'utf8')
    expect(formsIn(text)).toEqual([])
    for (const name of await readdir(env.dir)) expect(formsIn(await readFile(join(env.dir, name), 'latin1')), name).toEqual([])
    expect(formsIn(env.lines.join('\n'))).toEqual([])
    expect(formsIn(env.logs.join('\n'))).toEqual([])

    const session = JSON.parse(text) as Session
    const [login, history, download, clients] = session.exchanges
    expect(login?.response?.body).toMatchObject({ kind: 'json', json: { Result: { Token: '<identity-1>' } } })
    expect(history?.request.auth).toEqual({ via: 'authorization', identity: 'identity-1' })
    expect(download?.request.url).toBe(`${up.url}/public/api/v1/files/download?token=<identity-1>&lower=<identity-1>`)
    expect(clients?.request.headers).toContainEqual(['Cookie', 'theme=dark; auth=<identity-1>; auth2=<identity-1>'])
    expect(clients?.request.body).toMatchObject({ kind: 'json', json: { Note: 'pasted <identity-1>' } })
  })

  it('without --redact, the screen still shows no form of a known token', async () => {
    up = await startUpstream()
    env = await startRecorderEnv({ session: 'plain' })
    await call('chats/history', { Authorization: `Client ${TOKEN}` })
    await call(`files/download?token=${FORMS.percent}`, { Authorization: `Client ${TOKEN}` })
    await env.rec.settle()
    expect(env.lines).toHaveLength(2)
    expect(formsIn(env.lines.join('\n'))).toEqual([])
  })
})

describe('the forms of a token', () => {
  const secrets = Secrets.of([[TOKEN, '<identity-1>']])

  it('are found inside a longer base64 text whatever the offset, and in a binary body', () => {
    for (const prefix of ['', 'a', 'ab', 'abc']) {
      const blob = Buffer.from(`{"u":"${prefix}","t":"${TOKEN}","x":1}`).toString('base64')
      expect(formsIn(secrets.redact(blob)), prefix).toEqual([])
      expect(secrets.redact(blob)).toContain('<identity-1>')
    }
    const bytes = Buffer.concat([Buffer.from([0, 1, 2, 255]), Buffer.from(TOKEN), Buffer.from([7, 8])])
    const e = {
      seq: 1,
      id: 'x',
      startedAt: new Date(0).toISOString(),
      durationMs: 1,
      request: { method: 'POST', url: 'https://h/p', httpVersion: '1.1', headers: [], body: { kind: 'bytes', base64: bytes.toString('base64'), contentType: 'application/octet-stream', size: bytes.length }, auth: null },
      response: null,
      error: null,
    } satisfies Exchange
    const redacted = redactExchange(e, secrets).request.body
    expect(redacted.kind === 'bytes' && Buffer.from(redacted.base64, 'base64').toString('latin1')).toContain('<identity-1>')
    expect(redacted.kind === 'bytes' && formsIn(Buffer.from(redacted.base64, 'base64').toString('latin1'))).toEqual([])
  })

  it('leave text without the token as it is', () => {
    const text = 'q8 Zx 3mKd Lp0 ' + Buffer.from('unrelated').toString('base64') + ' %2F%2B%3D'
    expect(secrets.redact(text)).toBe(text)
  })
})
