/**
 * Runs `fn` once the frame being prepared has been painted: the animation-frame callback comes just before
 * the paint, the task it queues just after. For work that should not delay what the user is about to see.
 */
export function afterPaint(fn: () => void): void {
  requestAnimationFrame(() => setTimeout(fn))
}
