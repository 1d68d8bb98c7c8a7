import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { getLocal, type Mockttp } from 'mockttp'
import { ProxyAgent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { playStory, startSandbox, type Sandbox } from '../sandbox/index.js'
import { loadOrCreateCA, type CertificateAuthority } from '../store/ca.js'

// What the recorder will do: a mockttp proxy with reltape's CA in front of the sandbox. Proves the sandbox
// is recordable (TLS chain, chunked gzip, multipart, binary downloads) without depending on the recorder.
describe('the story through a mockttp pass-through proxy', () => {
  let home: string
  let ca: CertificateAuthority
  let sandbox: Sandbox
  let proxy: Mockttp
  let agent: ProxyAgent

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'reltape-sandbox-proxy-'))
    ca = await loadOrCreateCA(home)
    sandbox = await startSandbox({ home })
    proxy = getLocal({ https: { keyPath: ca.keyPath, certPath: ca.certPath }, recordTraffic: false })
    await proxy.start(0)
    await proxy.forAnyRequest().thenPassThrough({ additionalTrustedCAs: [{ cert: ca.cert }] })
    agent = new ProxyAgent({ uri: `http://127.0.0.1:${proxy.port}`, requestTls: { ca: ca.cert } })
  })
  afterAll(async () => {
    await agent?.close()
    await proxy?.stop()
    await sandbox?.close()
    if (home) await rm(home, { recursive: true, force: true })
  })

  it('completes with the same counts as directly', async () => {
    const seen: string[] = []
    await proxy.on('response', (r) => void seen.push(`${r.statusCode} ${r.headers['content-encoding'] ?? 'identity'}`))
    const result = await playStory({ apiUrl: sandbox.url, dispatcher: agent })
    expect({ calls: result.calls, ok: result.ok, failures: result.failures }).toEqual({ calls: 10, ok: 9, failures: 1 })
    expect(result.steps.at(-3)?.contentType).toBe('image/png')
    expect(seen.filter((s) => s === '200 gzip').length).toBe(7)
  })
})
