import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { playStory, STORY_PLAN } from '../sandbox/story.js'
import { startSandboxEnv, type SandboxEnv } from './helpers/sandbox-env.js'

describe('playStory: a scripted support chat against a real sandbox over HTTPS', () => {
  let env: SandboxEnv
  beforeAll(async () => {
    env = await startSandboxEnv()
  })
  afterAll(async () => {
    await env?.close()
  })

  it('plays every call; only closing the ticket fails', async () => {
    const lines: string[] = []
    const result = await playStory({ apiUrl: env.sandbox.url, dispatcher: env.agent, log: (l) => lines.push(l) })
    expect(result.steps.map((s) => s.method)).toEqual([...STORY_PLAN])
    expect(result.calls).toBe(10)
    expect(result.ok).toBe(9)
    expect(result.failures).toBe(1)
    expect(result.steps.filter((s) => !s.ok).map((s) => [s.method, s.errorCode])).toEqual([['tickets/close', 'TicketClosed']])
    expect(result.bytes).toBe(result.steps.reduce((n, s) => n + s.bytes, 0))
    expect(result.bytes).toBeGreaterThan(1000)
    expect(lines).toHaveLength(10)
    const [png, text, uploaded] = result.steps.slice(-3)
    expect(png?.contentType).toBe('image/png')
    expect(text?.contentType).toBe('text/plain; charset=utf-8')
    expect(uploaded?.contentType).toMatch(/^text\/plain/)
    expect(uploaded?.bytes).toBe('order #4711\ntracking: none yet\n'.length)
    // The second history carries the three messages written since the first (customer, notice, operator).
    expect(result.steps[3]!.bytes).toBeGreaterThan(result.steps[0]!.bytes)
  })

  it('a server that is gone makes every step a failure with a code, not an exception', async () => {
    const gone = await startSandboxEnv()
    const { url } = gone.sandbox
    const agent = gone.agent
    await gone.sandbox.close()
    try {
      const result = await playStory({ apiUrl: url, dispatcher: agent })
      expect(result).toMatchObject({ calls: 10, ok: 0, failures: 10, bytes: 0 })
      expect(result.steps.every((s) => s.status === 0 && s.errorCode === 'ECONNREFUSED')).toBe(true)
    } finally {
      await gone.close()
    }
  })
})
