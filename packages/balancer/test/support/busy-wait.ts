/** Blocks this process's event loop for `ms`: what a long synchronous task or a GC pause does to it. */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}
