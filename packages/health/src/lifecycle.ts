import { ErrorCodes, ReadykitError } from './errors.ts';

/** The one-way lifecycle of a service instance. */
export type LifecycleState = 'starting' | 'warming' | 'ready' | 'draining' | 'stopped';

export const LIFECYCLE_STATES: readonly LifecycleState[] = Object.freeze([
  'starting',
  'warming',
  'ready',
  'draining',
  'stopped',
]);

export interface StateChange {
  readonly from: LifecycleState;
  readonly to: LifecycleState;
  /** `Date.now()` at the transition. */
  readonly at: number;
}

export type StateListener = (change: StateChange) => void;

const NEXT: Record<LifecycleState, readonly LifecycleState[]> = {
  starting: ['warming', 'draining'],
  warming: ['ready', 'draining'],
  ready: ['draining'],
  draining: ['stopped'],
  stopped: [],
};

/**
 * starting → warming → ready → draining → stopped. Any state before draining may go
 * straight to draining (a pod can be told to stop while it warms). Listeners are called
 * synchronously, in subscription order; one that throws is reported as a process warning
 * and does not stop the transition or the other listeners.
 */
export class Lifecycle {
  #state: LifecycleState = 'starting';
  readonly #listeners = new Set<StateListener>();

  get state(): LifecycleState {
    return this.#state;
  }

  /** True once shutdown has begun: readiness must fail from here on. */
  get isShuttingDown(): boolean {
    return this.#state === 'draining' || this.#state === 'stopped';
  }

  subscribe(listener: StateListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Moves to `to`; returns false when already there, throws on a transition the lifecycle forbids. */
  transition(to: LifecycleState): boolean {
    const from = this.#state;
    if (from === to) return false;
    if (!NEXT[from].includes(to)) {
      throw new ReadykitError(ErrorCodes.LIFECYCLE, `cannot go from ${from} to ${to}`);
    }
    this.#state = to;
    const change: StateChange = Object.freeze({ from, to, at: Date.now() });
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (error) {
        process.emitWarning(`readykit lifecycle listener threw: ${String(error)}`, 'ReadykitWarning');
      }
    }
    return true;
  }
}
