// Waiting on events, never on time: these helpers yield to the event loop and re-check.

/** Resolves after the current turn of the event loop (I/O callbacks included). */
export function nextTick(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** Yields to the event loop until `condition` holds. */
export async function waitUntil(condition: () => boolean): Promise<void> {
  while (!condition()) await nextTick();
}
