/**
 * Where a backend stands for routing. Health checks move a backend between `warming`, `ready`,
 * `draining` and `down` (see `ReadinessTracker`); discovery alone makes it `removed`. Only
 * `ready` backends take new requests, except in panic mode (see `inPanic`).
 *
 * - `warming`: never seen ready since it was discovered (still starting, or not listening
 *   yet). No traffic.
 * - `ready`: its readiness answered 2xx; takes new requests, possibly at a reduced weight
 *   while in slow start.
 * - `draining`: its readiness said 503 after it had been ready: it is shutting down (or a
 *   critical dependency failed) and keeps serving for a while. No new requests; requests in
 *   flight finish.
 * - `down`: `fall` checks in a row failed (timeouts, connection errors, statuses other than
 *   2xx and 503). No traffic.
 * - `removed`: gone from discovery. No new requests; requests in flight finish, then the
 *   backend is forgotten.
 */
export type BackendState = (typeof BACKEND_STATES)[number];

/** Every {@link BackendState}, in lifecycle order (for metrics labels and the admin API). */
export const BACKEND_STATES = ['warming', 'ready', 'draining', 'down', 'removed'] as const;
