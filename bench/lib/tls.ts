/** A throwaway reltape home with its CA, and a certificate from it for the upstream on `localhost`. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { issueServerCertificate, loadOrCreateCA, type CertificateAuthority, type TlsCertificate } from '../../store/ca.js'

export type BenchHome = { tmp: string; home: string; ca: CertificateAuthority; upstreamCert: TlsCertificate; cleanup(): Promise<void> }

export async function benchHome(prefix: string): Promise<BenchHome> {
  const tmp = await mkdtemp(join(tmpdir(), `reltape-bench-${prefix}-`))
  const home = join(tmp, 'home')
  const ca = await loadOrCreateCA(home)
  // mockttp's leaf certificates carry DNS names only, so clients use `localhost` throughout.
  const upstreamCert = await issueServerCertificate(ca, ['localhost', '127.0.0.1'])
  return { tmp, home, ca, upstreamCert, cleanup: () => rm(tmp, { recursive: true, force: true }) }
}
