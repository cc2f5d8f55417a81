import { type CheckKind, type CheckResult, type Health, LIFECYCLE_STATES } from '@readykit/health';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { CHECK_DURATION_BUCKETS } from './options.ts';
import { own } from './registration.ts';

type CheckLabels = Readonly<{ check: string; kind: CheckKind }>;

/**
 * Lifecycle metrics of one `@readykit/health` instance. State and gates are read from the
 * instance at scrape time, so they are never stale and need no listener; check results
 * arrive through its 'check' event, the only one subscribed to (and removed by `stop()`).
 */
export class HealthMetrics {
  readonly metrics: readonly Metric[];
  readonly #checkDuration: Histogram<string>;
  readonly #checkFailures: Counter<string>;
  readonly #labels = new Map<string, CheckLabels>();
  #health: Health | undefined;

  readonly #onCheck = (name: string, kind: CheckKind, result: CheckResult): void => {
    const key = `${kind}\u0000${name}`;
    let labels = this.#labels.get(key);
    if (labels === undefined) {
      labels = Object.freeze({ check: name, kind });
      this.#labels.set(key, labels);
    }
    this.#checkDuration.observe(labels, result.durationMs / 1000);
    // A failing non-critical check reports 'warn': it still failed, the probe just tolerates it.
    this.#checkFailures.inc(labels, result.status === 'pass' ? 0 : 1);
  };

  constructor() {
    const self = this;
    const ready = new Gauge({
      name: 'readykit_ready',
      help: 'Whether the instance is ready to receive traffic (lifecycle state "ready"), 0 or 1.',
      registers: [],
      collect(this: Gauge<string>) {
        this.set(self.#health?.state === 'ready' ? 1 : 0);
      },
    });
    const stateLabels = LIFECYCLE_STATES.map((state) => Object.freeze({ state }));
    const state = new Gauge({
      name: 'readykit_lifecycle_state',
      help: 'Lifecycle state: 1 for the current one (starting, warming, ready, draining, stopped), 0 for the others.',
      labelNames: ['state'],
      registers: [],
      collect(this: Gauge<string>) {
        const current = self.#health?.state;
        for (const labels of stateLabels) this.set(labels, labels.state === current ? 1 : 0);
      },
    });
    const gates = new Gauge({
      name: 'readykit_gate_open',
      help: 'Whether a warmup gate is open, 0 or 1.',
      labelNames: ['gate'],
      registers: [],
      collect(this: Gauge<string>) {
        this.reset();
        for (const gate of self.#health?.gates ?? []) this.set({ gate: gate.name }, gate.isOpen ? 1 : 0);
      },
    });
    this.#checkDuration = new Histogram({
      name: 'readykit_check_duration_seconds',
      help: 'Duration of liveness and readiness check runs, in seconds.',
      labelNames: ['check', 'kind'],
      buckets: [...CHECK_DURATION_BUCKETS],
      registers: [],
    });
    this.#checkFailures = new Counter({
      name: 'readykit_check_failures_total',
      help: 'Liveness and readiness check runs that failed (fail or warn), timeouts included.',
      labelNames: ['check', 'kind'],
      registers: [],
    });
    this.metrics = Object.freeze(
      [ready, state, gates, this.#checkDuration, this.#checkFailures].map((m) => own(m as Metric)),
    );
  }

  /** Follows `health` from now on, in place of any instance followed before. */
  observe(health: Health): void {
    if (health === this.#health) return;
    this.stop();
    this.#health = health;
    health.on('check', this.#onCheck);
  }

  stop(): void {
    this.#health?.off('check', this.#onCheck);
  }
}
