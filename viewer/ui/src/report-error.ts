/**
 * The one way the UI reports a failure: a window event that `<error-notifier>` shows.
 * Components call this instead of drawing their own error boxes for failures of the app itself.
 */
import { TOKEN_REQUIRED } from './token.js'

export const ERROR_EVENT = 'reltape-error'

export type ErrorDetail = { code: string; message: string }

export function reportError(err: unknown, context?: string): void {
  if (err instanceof Error && err.name === 'AbortError') return
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'VIEWER_ERROR'
  // A refused token locks the whole page, which `<reltape-app>` says in its place; a toast per call would repeat it.
  if (code === TOKEN_REQUIRED) return
  const text = err instanceof Error ? err.message : String(err)
  const detail: ErrorDetail = { code, message: context ? `${context}: ${text}` : text }
  window.dispatchEvent(new CustomEvent<ErrorDetail>(ERROR_EVENT, { detail }))
}
