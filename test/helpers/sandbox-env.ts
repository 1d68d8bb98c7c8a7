/** Shared set-up for the sandbox tests: a temp RELTAPE_HOME for the CA, a started sandbox, a client that trusts the CA. */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Agent, request } from 'undici'
import { startSandbox, type Sandbox } from '../../sandbox/index.js'

export type SandboxEnv = { home: string; sandbox: Sandbox; agent: Agent; ca: string; close(): Promise<void> }

export async function startSandboxEnv(): Promise<SandboxEnv> {
  const home = await mkdtemp(join(tmpdir(), 'reltape-sandbox-test-'))
  const sandbox = await startSandbox({ home })
  const ca = await readFile(sandbox.caCertPath, 'utf8')
  const agent = new Agent({ connect: { ca } })
  return {
    home,
    sandbox,
    agent,
    ca,
    async close() {
      await agent.close()
      await sandbox.close()
      await rm(home, { recursive: true, force: true })
    },
  }
}

export type Raw = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }

/** A POST to the API with undici's request (which does not decode bodies: the test sees the wire encoding). */
export async function post(env: SandboxEnv, method: string, body: unknown, headers: Record<string, string> = {}): Promise<Raw> {
  const res = await request(`${env.sandbox.url}/public/api/v1/${method}`, {
    method: 'POST',
    dispatcher: env.agent,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
  return { status: res.statusCode, headers: res.headers, body: Buffer.from(await res.body.arrayBuffer()) }
}
