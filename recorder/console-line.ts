/**
 * One screen line per recorded exchange: seq, method, API path, the envelope's OK or its Error code
 * (the HTTP status is 200 either way), identity, duration and size. Tokens never reach the screen.
 */
import { maskSecrets } from '../model/auth.js'
import type { Body, Exchange } from '../model/session.js'

/** What the envelope (or the transport) says: `OK`, `ERR <Code>`, the error code, or the HTTP status. */
export function outcomeOf(e: Exchange): { text: string; ok: boolean } {
  if (e.error) return { text: e.error.code, ok: false }
  const res = e.response
  if (!res) return { text: 'NO RESPONSE', ok: false }
  const body = res.body
  if (body.kind === 'json' && body.json !== null && typeof body.json === 'object' && 'OK' in body.json) {
    const env = body.json as { OK?: unknown; Error?: unknown }
    if (env.OK === true) return { text: 'OK', ok: true }
    return { text: `ERR ${errorName(env.Error)}`, ok: false }
  }
  const type = body.kind !== 'empty' ? body.contentType.split(';')[0]?.trim() : ''
  return { text: type ? `${res.status} ${type}` : String(res.status), ok: res.status < 400 }
}

function errorName(error: unknown): string {
  if (typeof error === 'string') return error.slice(0, 40)
  if (error && typeof error === 'object') {
    const o = error as Record<string, unknown>
    for (const k of ['Code', 'code', 'Name', 'Type', 'Message']) if (typeof o[k] === 'string' || typeof o[k] === 'number') return String(o[k]).slice(0, 40)
  }
  return 'error'
}

export function sizeOf(body: Body | undefined): number {
  return body && body.kind !== 'empty' ? body.size : 0
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}

function pathOf(url: string): string {
  try {
    const u = new URL(url)
    return u.pathname + u.search
  } catch {
    return url
  }
}

/**
 * `#12 POST /public/api/v1/chats/history  OK  identity-1  38ms  2.1 KB`. `secrets` masks tokens in the path: the
 * tokens themselves (each as it is), or a function that masks every form of them (see Secrets in redact.ts).
 */
export function consoleLine(e: Exchange, secrets: readonly string[] | ((text: string) => string)): string {
  const outcome = outcomeOf(e)
  const path = typeof secrets === 'function' ? secrets(pathOf(e.request.url)) : maskSecrets(pathOf(e.request.url), secrets)
  const who = e.request.auth?.identity ?? '-'
  const size = formatSize(sizeOf(e.response?.body))
  return `#${e.seq} ${e.request.method} ${path}  ${outcome.text}  ${who}  ${Math.round(e.durationMs)}ms  ${size}`
}

/** The line of an exchange that was answered but not recorded (recording stopped): says so, with the reason's code. */
export function unrecordedLine(line: string, code: string): string {
  return `${line.replace(/^#\d+ /, '#- ')}  NOT RECORDED (recording stopped: ${code})`
}
