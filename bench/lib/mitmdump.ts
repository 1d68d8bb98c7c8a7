/**
 * mitmproxy's `mitmdump`, the recorder users would pick instead: found on PATH, else installed from Debian
 * (`apt-get install mitmproxy`) when this runs as root. When neither works, says why and the benchmark goes on.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, startProgram, type BenchChild } from './children.js'

export function findMitmdump(log: (m: string) => void): { path: string } | { missing: string } {
  const found = which('mitmdump')
  if (found) return { path: found }
  if (process.getuid?.() !== 0) return { missing: 'mitmdump is not installed (install the Debian package mitmproxy to compare with it)' }
  log('mitmdump not found: installing the Debian package mitmproxy (apt-get install -y mitmproxy) …')
  try {
    execFileSync('apt-get', ['install', '-y', '-q', 'mitmproxy'], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  } catch (e) {
    return { missing: `mitmdump could not be installed (apt-get install mitmproxy: ${(e as Error).message.split('\n')[0]})` }
  }
  const installed = which('mitmdump')
  return installed ? { path: installed } : { missing: 'apt-get installed mitmproxy but mitmdump is not on PATH' }
}

function which(name: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/**
 * Starts mitmdump as a forward proxy on loopback that saves every flow to a file (`-w`: recording, as our
 * recorder does), verifying the upstream against `upstreamCaFile`. Returns its proxy URL and its own CA.
 */
export async function startMitmdump(path: string, tmp: string, upstreamCaFile: string): Promise<{ child: BenchChild; url: string; ca: string }> {
  const port = await freePort()
  const confdir = join(tmp, 'mitmproxy')
  const child = await startProgram('mitmdump', path, [
    '--mode', 'regular',
    '--listen-host', '127.0.0.1',
    '--listen-port', String(port),
    '-q',
    '--set', `confdir=${confdir}`,
    '--set', `ssl_verify_upstream_trusted_ca=${upstreamCaFile}`,
    '-w', join(tmp, 'mitmdump-flows.mitm'),
  ], port)
  const caFile = join(confdir, 'mitmproxy-ca-cert.pem')
  if (!existsSync(caFile)) throw new Error(`mitmdump started but made no CA at ${caFile}`)
  return { child, url: `http://127.0.0.1:${port}`, ca: readFileSync(caFile, 'utf8') }
}
