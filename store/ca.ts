/**
 * reltape's certificate authority, kept in RELTAPE_HOME as `ca.pem` (what a client trusts) and `ca.key`
 * (mode 0600). Made on first use; two processes starting at once end up with the same CA.
 */
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto'
import { existsSync, linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as x509 from '@peculiar/x509'
import { generateCACertificate, generateSPKIFingerprint } from 'mockttp'
import { ensureDir, PRIVATE_FILE_MODE } from './private-file.js'
import { reltapeHome } from './paths.js'

export type CertificateAuthority = {
  certPath: string
  keyPath: string
  cert: string
  key: string
  /** Base64 SHA-256 of the CA's public key, for Chromium's `--ignore-certificate-errors-spki-list`. */
  spkiFingerprint: string
}

export type TlsCertificate = { cert: string; key: string }

/** Loads the CA from `home` (default RELTAPE_HOME), making it first if it does not exist. */
export async function loadOrCreateCA(home = reltapeHome()): Promise<CertificateAuthority> {
  ensureDir(home, true)
  const certPath = join(home, 'ca.pem')
  const keyPath = join(home, 'ca.key')
  if (!existsSync(keyPath) || !existsSync(certPath)) await createCA(certPath, keyPath)
  const cert = readFileSync(certPath, 'utf8')
  const key = readFileSync(keyPath, 'utf8')
  return { certPath, keyPath, cert, key, spkiFingerprint: await generateSPKIFingerprint(cert) }
}

async function createCA(certPath: string, keyPath: string): Promise<void> {
  const generated = await generateCACertificate({
    subject: { commonName: 'reltape CA (local, made on this machine)', organizationName: 'reltape' },
  })
  const tag = `${process.pid}-${randomBytes(4).toString('hex')}`
  const keyTmp = `${keyPath}.${tag}.tmp`
  const certTmp = `${certPath}.${tag}.tmp`
  // Created exclusively, as every file reltape makes: a link planted at either name is refused, not written through.
  writeFileSync(keyTmp, generated.key, { mode: PRIVATE_FILE_MODE, flag: 'wx' })
  writeFileSync(certTmp, generated.cert, { mode: 0o644, flag: 'wx' })
  try {
    // link() fails if ca.key exists: the first process to link wins, the others use its CA.
    linkSync(keyTmp, keyPath)
    renameSync(certTmp, certPath)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    await waitFor(() => existsSync(certPath), `${certPath} (another reltape is creating the CA)`)
  } finally {
    for (const f of [keyTmp, certTmp]) if (existsSync(f)) unlinkSync(f)
  }
}

async function waitFor(ready: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (ready()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 } as const

/** Issues a server certificate for the given host names (and IPs), signed by the CA. */
export async function issueServerCertificate(ca: CertificateAuthority, hosts: string[] = ['localhost', '127.0.0.1', '::1']): Promise<TlsCertificate> {
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0])
  const caCert = new x509.X509Certificate(ca.cert)
  const caKeyDer = createPrivateKey(ca.key).export({ type: 'pkcs8', format: 'der' })
  const signingKey = await webcrypto.subtle.importKey('pkcs8', caKeyDer, RSA, false, ['sign'])
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify'])
  const now = Date.now()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    subject: `CN=${hosts[0]}`,
    issuer: caCert.subject,
    notBefore: new Date(now - 24 * 3600_000),
    notAfter: new Date(now + 365 * 24 * 3600_000),
    signingAlgorithm: RSA,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(
        hosts.map((h) => (/^[\d.]+$|:/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h })),
      ),
    ],
  })
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey))
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd()}\n-----END PRIVATE KEY-----\n`
  return { cert: cert.toString('pem'), key }
}
