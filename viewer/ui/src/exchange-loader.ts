/**
 * Exchanges as the detail pane loads them: recently opened ones kept (moving back and forth through the list does
 * not refetch), and one request in flight at a time (holding `j` does not queue a fetch per row passed).
 *
 * The app asks for an exchange as soon as the URL names it, before any component renders: the request then runs
 * while the list scrolls to the row and the pane draws its loading state, instead of waiting behind them.
 */
import type { Exchange } from '../../../model/session.js'
import { api } from './api.js'

const CACHE_SIZE = 40
const cache = new Map<string, Exchange>()
let inFlight: { key: string; promise: Promise<Exchange>; abort: AbortController } | null = null

const keyOf = (session: string, seq: number) => `${session}\u0000${seq}`

/** The exchange if it is already loaded: the pane shows it in the same frame, with no loading state. */
export function cachedExchange(session: string, seq: number): Exchange | undefined {
  return cache.get(keyOf(session, seq))
}

/**
 * Loads an exchange, sharing a request already in flight for it. Starting another one cancels the previous
 * request (its promise rejects with an AbortError): only the newest selection is worth the wait.
 */
export function loadExchange(session: string, seq: number): Promise<Exchange> {
  const key = keyOf(session, seq)
  const hit = cache.get(key)
  if (hit) return Promise.resolve(hit)
  if (inFlight?.key === key) return inFlight.promise
  inFlight?.abort.abort()
  const abort = new AbortController()
  const promise = api.exchange(session, seq, abort.signal).then(
    (x) => {
      cache.set(key, x)
      if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string)
      return x
    },
  )
  const entry = { key, promise, abort }
  inFlight = entry
  const done = () => {
    if (inFlight === entry) inFlight = null
  }
  promise.then(done, done)
  return promise
}
