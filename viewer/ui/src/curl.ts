/**
 * "Copy as cURL": a command that sends the recorded request again.
 * The session token is masked unless the user revealed it, so a copied command is safe to paste in a bug report.
 */
import type { Body, Exchange, HeaderPair } from '../../../model/session.js'
import { findToken, maskSecrets } from '../../../model/auth.js'

/** Headers curl computes itself, or that only make sense for the original connection. */
const SKIP = new Set(['content-length', 'host', 'connection', 'transfer-encoding', 'keep-alive', 'te', 'upgrade', 'proxy-connection'])

export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`
}

function bodyArgs(body: Body): string[] {
  switch (body.kind) {
    case 'empty':
      return []
    case 'json':
      return ['--data-raw', shellQuote(body.raw ?? JSON.stringify(body.json))]
    case 'text':
      return ['--data-raw', shellQuote(body.text)]
    case 'bytes':
      return ['--data-binary', '@request-body.bin']
    case 'multipart':
      return body.parts.flatMap((p) => {
        const type = p.contentType ? `;type=${p.contentType}` : ''
        if (p.filename !== undefined) return ['-F', shellQuote(`${p.name}=@${p.filename}${type}`)]
        const text = p.body.kind === 'text' ? p.body.text : p.body.kind === 'json' ? JSON.stringify(p.body.json) : ''
        return ['-F', shellQuote(`${p.name}=${text}`)]
      })
  }
}

export function toCurl(exchange: Exchange, reveal: boolean): string {
  const req = exchange.request
  const token = findToken(req.headers)?.token
  const show = (v: string) => (reveal || !token ? v : maskSecrets(v, [token]))
  const multipart = req.body.kind === 'multipart'
  const headers: HeaderPair[] = req.headers.filter(([n]) => {
    const lower = n.toLowerCase()
    // curl writes its own multipart Content-Type with a new boundary.
    return !SKIP.has(lower) && !(multipart && lower === 'content-type')
  })
  // One option per line, each with its value: readable, and still one command for a shell.
  const lines = [`curl${req.method !== 'GET' || req.body.kind !== 'empty' ? ` -X ${req.method}` : ''} ${shellQuote(req.url)}`]
  let compressed = false
  for (const [n, v] of headers) {
    if (n.toLowerCase() === 'accept-encoding') compressed = true
    lines.push(`-H ${shellQuote(`${n}: ${show(v)}`)}`)
  }
  const body = bodyArgs(req.body)
  for (let i = 0; i < body.length; i += 2) lines.push(`${body[i]} ${body[i + 1]}`)
  if (compressed) lines.push('--compressed')
  return lines.join(' \\\n  ')
}
