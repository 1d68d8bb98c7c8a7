/**
 * mockttp prints its own lines for failures that the recorder already records as exchanges
 * (`Failed to handle request: connect ECONNREFUSED …`), with `console` and no option to stop it. The CLI, which
 * owns its process and its screen, drops those lines; everything else printed goes through unchanged. Library
 * code never does this: an embedder's console is the embedder's.
 */
const MOCKTTP_NOISE = [/^Failed to handle request/, /^Response error:/, /^Failed to handle websocket/, /^Upstream (request|response) failed/, /^Error in proxied request/]

type Printer = (...args: unknown[]) => void

let active = 0
let originals: { error: Printer; log: Printer; warn: Printer } | null = null

function filtered(print: Printer): Printer {
  return (...args: unknown[]) => {
    const first = args[0]
    if (typeof first === 'string' && MOCKTTP_NOISE.some((re) => re.test(first))) return
    // A body cut off by a client that left: mockttp prints the rejection; the recorder records CLIENT_ABORTED.
    if (first instanceof Error && first.message === 'Aborted' && /mockttp/.test(first.stack ?? '')) return
    print(...args)
  }
}

/** Starts dropping mockttp's failure lines; returns the function that stops it (counted, so recorders can nest). */
export function muteMockttpLogs(): () => void {
  if (active++ === 0) {
    originals = { error: console.error, log: console.log, warn: console.warn }
    console.error = filtered(originals.error)
    console.log = filtered(originals.log)
    console.warn = filtered(originals.warn)
  }
  let done = false
  return () => {
    if (done) return
    done = true
    if (--active === 0 && originals) {
      console.error = originals.error
      console.log = originals.log
      console.warn = originals.warn
      originals = null
    }
  }
}
