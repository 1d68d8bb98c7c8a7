/** reltape's CA: made once, key private, the same for two processes that start together, and it issues usable certificates. */
import { X509Certificate } from 'node:crypto'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { issueServerCertificate, loadOrCreateCA } from '../store/ca.js'
import { runCli } from './helpers/cli.js'
import { tempDir } from './helpers/exchange-factory.js'

describe("reltape's CA", () => {
  it('is made on first use with a private key and a private home, and reused after', async () => {
    const home = join(await tempDir(), 'home')
    const first = await loadOrCreateCA(home)
    expect(statSync(first.keyPath).mode & 0o777).toBe(0o600)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(new X509Certificate(first.cert).ca).toBe(true)
    const again = await loadOrCreateCA(home)
    expect(again.cert).toBe(first.cert)
    expect(again.spkiFingerprint).toMatch(/^[A-Za-z0-9+/]{43}=$/)
  })

  it('is one CA when several callers make it at the same time', async () => {
    const home = await tempDir()
    const all = await Promise.all([loadOrCreateCA(home), loadOrCreateCA(home), loadOrCreateCA(home)])
    expect(new Set(all.map((c) => c.cert)).size).toBe(1)
  })

  it('issues server certificates for localhost that verify against it', async () => {
    const ca = await loadOrCreateCA(await tempDir())
    const leaf = new X509Certificate((await issueServerCertificate(ca)).cert)
    expect(leaf.verify(new X509Certificate(ca.cert).publicKey)).toBe(true)
    expect(leaf.checkHost('localhost')).toBe('localhost')
    expect(leaf.checkIP('127.0.0.1')).toBe('127.0.0.1')
    expect(leaf.ca).toBe(false)
  })

  it('is shown by `reltape ca` with its path, fingerprint and how to trust it', async () => {
    const home = await tempDir()
    const r = runCli(['ca'], { RELTAPE_HOME: home })
    expect(r.code).toBe(0)
    const ca = await loadOrCreateCA(home)
    expect(r.stdout).toContain(ca.certPath)
    expect(r.stdout).toContain(ca.spkiFingerprint)
    expect(r.stdout).toContain('NODE_EXTRA_CA_CERTS')
    expect(runCli(['ca', '--pem'], { RELTAPE_HOME: home }).stdout).toBe(ca.cert)
  })
})
