/**
 * Transport failures as data: mockttp reports an upstream failure as its own 502 tagged
 * `passthrough-error:<node code>`; this maps those codes to the session's stable error codes.
 */
import type { ExchangeError, ExchangeErrorCode } from '../model/session.js'

const TAG = 'passthrough-error:'

/** The node error code mockttp tagged the exchange with, or null when the upstream really answered. */
export function passthroughErrorCode(tags: readonly string[]): string | null {
  for (const t of tags) if (t.startsWith(TAG)) return t.slice(TAG.length)
  return null
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'])
const TIMEOUTS = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])
const RESETS = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'HPE_INVALID_CONSTANT', 'HPE_INVALID_HEADER_TOKEN'])

/** True for the node/OpenSSL codes of a failed TLS handshake or certificate check. */
export function isTlsCode(code: string): boolean {
  return (
    /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME|ALTNAME|DEPTH_ZERO|SSL/.test(code) || code.startsWith('ERR_TLS')
  )
}

/** The session's error code for a node error code. */
export function exchangeErrorCode(nodeCode: string): ExchangeErrorCode {
  if (UNREACHABLE.has(nodeCode)) return 'UPSTREAM_UNREACHABLE'
  if (TIMEOUTS.has(nodeCode)) return 'TIMEOUT'
  if (RESETS.has(nodeCode)) return 'UPSTREAM_RESET'
  if (isTlsCode(nodeCode)) return 'UPSTREAM_TLS'
  return 'PROXY_ERROR'
}

const EXPLAIN: Record<string, string> = {
  UPSTREAM_UNREACHABLE: 'the upstream could not be reached',
  TIMEOUT: 'the upstream did not answer in time',
  UPSTREAM_RESET: 'the upstream closed the connection',
  UPSTREAM_TLS: "the upstream's TLS certificate was not accepted (use --upstream-ca FILE to trust its CA, or --insecure-upstream)",
  PROXY_ERROR: 'the proxy could not pass the request on',
}

/** The stored error for an exchange mockttp answered itself; `detail` is its answer's text when there was one. */
export function upstreamError(nodeCode: string, host: string, detail?: string): ExchangeError {
  const code = exchangeErrorCode(nodeCode)
  const text = detail?.trim().split('\n')[0]?.slice(0, 300)
  return { code, message: `${EXPLAIN[code] ?? 'failed'}: ${host}: ${nodeCode}${text ? ` (${text})` : ''}` }
}

/** A system error as messages name it: `ENOSPC (no space left on device)`; other errors by their message. */
export function systemReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException
  return err.code ? `${err.code} (${err.message.replace(/^[A-Z]+:\s*/, '').split(',')[0]})` : err.message
}
