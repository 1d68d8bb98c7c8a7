/**
 * The replay server as a fastify app, built in a function so that tests can `inject()` and the caller
 * decides where it listens. It never contacts any upstream (every answer comes from the session) unless it is
 * given a MissRecorder (`record-missing`), which forwards what the session lacks.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { ERRORS, errorMessage } from '../model/errors.js'
import type { Session } from '../model/session.js'
import { HostGuard } from './browser-guard.js'
import { resolveRules, type ReplayRules, type ResolvedRules } from './options.js'
import type { MissRecorder } from './record-missing.js'
import { Replayer, type Answer } from './replayer.js'
import { splitTarget } from './request-shape.js'
import { indexSession, memorySource, type RecordingSource, type SessionIndex } from './session-index.js'

export type ReplayApp = { app: FastifyInstance; replayer: Replayer; index: SessionIndex; rules: ResolvedRules }

/** Bodies up to twice the largest recorded one (and at least 64 KiB more) are read; larger ones are refused unread. */
export function bodyLimitFor(index: SessionIndex): number {
  return index.largestRequest * 2 + 64 * 1024
}

/** `record-missing` reads bodies up to this (a new request may be larger than any recorded), as the recorder's 50 MB. */
const RECORD_MISSING_BODY_LIMIT = 64 * 1024 * 1024

function originOf(req: FastifyRequest): string | undefined {
  const o = req.headers.origin
  return typeof o === 'string' ? o : undefined
}

/** Statuses that carry no body, hence no Content-Length. */
const BODYLESS = new Set([204, 304])

/**
 * Writes the answer straight to the socket: headers exactly as prepared (fastify would add a content type the
 * recording did not have), status text as recorded, and a Content-Length for the body actually served.
 */
function send(reply: FastifyReply, a: Answer): FastifyReply {
  reply.hijack()
  const res = reply.raw
  if (BODYLESS.has(a.status) || (a.status >= 100 && a.status < 200)) {
    res.writeHead(a.status, a.statusText, a.headers)
    res.end()
  } else if (a.rawHeaders) {
    res.writeHead(a.status, a.statusText, a.rawHeaders)
    res.end(a.body)
  } else {
    res.writeHead(a.status, a.statusText, { ...a.headers, 'content-length': String(a.body.length) })
    res.end(a.body)
  }
  return reply
}

/** Sends the answer, after its recorded latency when `--latency recorded` asks for it. */
function deliver(reply: FastifyReply, a: Answer): FastifyReply | Promise<FastifyReply> {
  return a.delayMs > 0 ? sleep(a.delayMs).then(() => send(reply, a)) : send(reply, a)
}

/** Where the app will listen, as far as the app needs to know. */
export type ReplayAppOptions = {
  /** The address it binds: besides loopback names and the session's recorded hosts, the one Host name answered. @default '127.0.0.1' */
  host?: string
  /** `record-missing`: forwards what no recording answers and records it. @default null (never contacts an upstream) */
  filler?: MissRecorder | null
}

/** The 421 a request for a Host replay does not answer gets (see browser-guard.ts), as an envelope like a miss. */
function hostRefused(reply: FastifyReply, bound: string, host: string): void {
  const Message = errorMessage('REPLAY_HOST_NOT_ALLOWED', { bound, host })
  void reply
    .code(ERRORS.REPLAY_HOST_NOT_ALLOWED.status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('x-reltape', 'refused')
    .send(JSON.stringify({ OK: false, Error: { Code: 'ReplayHostNotAllowed', Message }, Result: null }))
}

/**
 * Builds the app (not listening) for a Session object or a session read from disk (`readerSource`). `rules` may
 * be user options or rules already resolved.
 */
export async function buildReplayApp(
  session: Session | RecordingSource,
  rules: ReplayRules | ResolvedRules = {},
  options: ReplayAppOptions = {},
): Promise<ReplayApp> {
  const resolved = 'match' in rules ? (rules as ResolvedRules) : resolveRules(rules as ReplayRules)
  const source = 'rows' in session ? session : memorySource(session)
  const index = await indexSession(source, resolved)
  for (const w of index.warnings) resolved.log?.(`WARN ${w}`)
  const filler = options.filler ?? null
  const replayer = new Replayer(index, resolved, filler)
  const bodyLimit = filler ? Math.max(bodyLimitFor(index), RECORD_MISSING_BODY_LIMIT) : bodyLimitFor(index)
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit, return503OnClosing: false })

  // Before anything else, the control routes included: a page rebound to 127.0.0.1 reads nothing.
  const bound = options.host ?? '127.0.0.1'
  const hosts = new HostGuard(bound, index)
  const refusedHosts = new Set<string>()
  app.addHook('onRequest', (req, reply, done) => {
    const host = req.headers.host
    if (hosts.allows(host, req.url)) return done()
    if (refusedHosts.size < 100 && !refusedHosts.has(host!)) {
      refusedHosts.add(host!)
      resolved.log?.(`REFUSED ${req.method} ${splitTarget(req.url).path}: Host ${JSON.stringify(host)} is not loopback, ${bound} or a recorded host [REPLAY_HOST_NOT_ALLOWED] (logged once per Host)`)
    }
    hostRefused(reply, bound, host!)
  })

  // Every body arrives as raw bytes (JSON too): matching needs the exact bytes and parses JSON itself.
  app.removeAllContentTypeParsers()
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body))

  app.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      const len = Number(req.headers['content-length'])
      return send(reply, replayer.tooLarge(req.method, req.url, Number.isFinite(len) ? len : null, originOf(req)))
    }
    if (err.code?.startsWith('FST_ERR_CTP_')) {
      return send(
        reply,
        replayer.missAnswer(
          { method: req.method, path: splitTarget(req.url).path, reason: 'bad-request', message: `the request could not be read: ${err.message}`, nearest: null },
          originOf(req),
        ),
      )
    }
    resolved.log?.(`ERROR ${req.method} ${req.url}: ${err.message}`)
    return reply
      .code(ERRORS.REPLAY_FAILED.status)
      .header('x-reltape', 'error')
      .send({ OK: false, Error: { Code: 'ReplayError', Message: errorMessage('REPLAY_FAILED', { method: req.method, url: req.url, reason: err.message }) }, Result: null })
  })

  // Methods fastify does not route (PROPFIND, …) still get the miss envelope.
  app.setNotFoundHandler((req, reply) => {
    const path = splitTarget(req.url).path
    return send(reply, replayer.missAnswer({ method: req.method, path, reason: 'no-match', message: `no recording for ${req.method} ${path}`, nearest: null }, originOf(req)))
  })

  app.post('/__reltape/reset', async (_req, reply) => {
    replayer.reset()
    return reply.header('x-reltape', 'control').send({ OK: true })
  })
  app.get('/__reltape/state', async (_req, reply) => reply.header('x-reltape', 'control').send(replayer.state()))

  // Not async: a JSON request is answered in the turn it arrived in, without a promise per request.
  app.all('/*', (req, reply) => {
    const live = { method: req.method, url: req.url, headers: req.headers, body: req.body as Buffer | undefined }
    // Only a request that may be forwarded needs its headers as received.
    const answer = replayer.answer(filler ? { ...live, rawHeaders: req.raw.rawHeaders, httpVersion: req.raw.httpVersion } : live)
    return answer instanceof Promise ? answer.then((a) => deliver(reply, a)) : deliver(reply, answer)
  })

  return { app, replayer, index, rules: resolved }
}
