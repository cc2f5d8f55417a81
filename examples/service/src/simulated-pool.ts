import { setTimeout as sleep } from 'node:timers/promises';

/** Stands in for a database pool: connecting takes `warmupMs`, queries take about a millisecond. */
export class SimulatedPool {
  readonly #warmupMs: number;
  #connected = false;

  constructor(warmupMs: number) {
    this.#warmupMs = warmupMs;
  }

  get connected(): boolean {
    return this.#connected;
  }

  async connect(signal?: AbortSignal): Promise<void> {
    await sleep(this.#warmupMs, undefined, { signal });
    this.#connected = true;
  }

  /** A cheap round trip, as a readiness check would run (`SELECT 1`). */
  async ping(signal?: AbortSignal): Promise<void> {
    if (!this.#connected) throw new Error('pool not connected');
    await sleep(1, undefined, { signal });
  }

  async end(): Promise<void> {
    this.#connected = false;
  }
}
