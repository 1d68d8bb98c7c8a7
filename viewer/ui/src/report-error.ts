/**
 * The one way the UI reports a failure: a window event that `<error-notifier>` shows.
 * Components call this instead of drawing their own error boxes for failures of the app itself.
 */
export const ERROR_EVENT = 'reltape-error'

export type ErrorDetail = { code: string; message: string }

export function reportError(err: unknown, context?: string): void {
  if (err instanceof Error && err.name === 'AbortError') return
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'VIEWER_ERROR'
  const text = err instanceof Error ? err.message : String(err)
  const detail: ErrorDetail = { code, message: context ? `${context}: ${text}` : text }
  window.dispatchEvent(new CustomEvent<ErrorDetail>(ERROR_EVENT, { detail }))
}
