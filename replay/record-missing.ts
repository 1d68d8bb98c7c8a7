/**
 * `record-missing`: a request no recording answers goes to the upstream, and its live exchange is appended to the
 * session through its writer (the lock held while replay runs, a journal line written and flushed before the client
 * is answered, the token's identity found or created), so the next replay answers it offline. An upstream that gives
 * no answer records nothing: a gap filled with a failure would be served as one from then on. A session recorded
 * redacted stays redacted: what is appended has its tokens as `<identity-N>`, while the client gets the live answer.
 */
import type { Exchange, ExchangeError, HeaderPair } from '../model/session.js'
import { liveExchange } from '../store/live-exchange.js'
import { redactExchange, Secrets } from '../store/redact.js'
import type { SessionWriter } from '../store/store.js'
import type { UpstreamClient } from '../store/upstream-client.js'
import { splitTarget, type LiveRequest } from './request-shape.js'

export type Filled = { exchange: Exchange; error: null } | { exchange: null; error: ExchangeError }

/** Live headers as pairs: as received when known, else rebuilt from the parsed object. */
function headerPairs(live: LiveRequest): HeaderPair[] {
  const out: HeaderPair[] = []
  if (live.rawHeaders) {
    for (let i = 0; i + 1 < live.rawHeaders.length; i += 2) out.push([live.rawHeaders[i]!, live.rawHeaders[i + 1]!])
    return out
  }
  for (const [name, value] of Object.entries(live.headers)) {
    if (Array.isArray(value)) for (const v of value) out.push([name, v])
    else if (value !== undefined) out.push([name, value])
  }
  return out
}

export class MissRecorder {
  /** The tokens seen, with their placeholders, for a redacted session. */
  readonly #secrets = new Secrets()

  constructor(
    readonly writer: SessionWriter,
    readonly client: UpstreamClient,
    /** The upstream origin. */
    readonly upstream: string,
    /** The session was recorded redacted (store/redact.ts `sessionIsRedacted`): what is appended is redacted too. */
    readonly redact = false,
  ) {}

  #identityOf(token: string): string {
    const { alias } = this.writer.identityFor(token)
    if (this.redact) this.#secrets.add(token, `<${alias}>`)
    return alias
  }

  /** Sends a live request upstream and journals what came back; a transport failure is returned, not recorded. */
  async fill(live: LiveRequest): Promise<Filled> {
    const target = splitTarget(live.url)
    const sent = {
      method: live.method,
      url: new URL(target.path + (target.search ? `?${target.search}` : ''), this.upstream).href,
      httpVersion: live.httpVersion ?? '1.1',
      headers: headerPairs(live),
      body: live.body ?? Buffer.alloc(0),
    }
    const startedAt = new Date()
    const result = await this.client.send(sent)
    if (result.error) return { exchange: null, error: result.error }
    // The seq is taken once there is something to record: a failed forward leaves no gap in the numbering.
    const exchange = await liveExchange({ seq: this.writer.nextSeq(), startedAt, sent, result, identityOf: (t) => this.#identityOf(t) })
    this.writer.append(this.redact ? redactExchange(exchange, this.#secrets) : exchange)
    this.writer.flush()
    return { exchange, error: null }
  }

  #closing: Promise<void> | null = null

  /** Closes the upstream client, then the writer (the journal folded into the session file, the lock released). Once. */
  close(): Promise<void> {
    this.#closing ??= this.client.close().finally(() => this.writer.close())
    return this.#closing
  }
}
