/**
 * The replica count an autoscaling/v2 HorizontalPodAutoscaler settles on, step by step, from
 * metric readings: per metric desired = ceil(current × value / target), unless the ratio is
 * within the tolerance; the highest proposal wins; then the stabilization windows (scale up
 * to the lowest, scale down to the highest recommendation of their window) and the rate
 * policies of `behavior` (per `periodSeconds`, combined by `selectPolicy`), then min/max.
 * Pure: time is whatever the caller passes, in seconds.
 */

export interface ScalingPolicy {
  readonly type: 'Pods' | 'Percent';
  readonly value: number;
  readonly periodSeconds: number;
}

export interface ScalingRules {
  readonly stabilizationWindowSeconds: number;
  readonly selectPolicy: 'Max' | 'Min' | 'Disabled';
  readonly policies: readonly ScalingPolicy[];
}

export interface HpaBehavior {
  readonly scaleUp: ScalingRules;
  readonly scaleDown: ScalingRules;
}

/** Kubernetes' defaults when `behavior` (or one of its halves, or a field) is left out. */
export const DEFAULT_SCALE_UP: ScalingRules = Object.freeze({
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: Object.freeze<ScalingPolicy[]>([
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ]),
});
export const DEFAULT_SCALE_DOWN: ScalingRules = Object.freeze({
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: Object.freeze<ScalingPolicy[]>([{ type: 'Percent', value: 100, periodSeconds: 15 }]),
});
export const DEFAULT_TOLERANCE = 0.1;

/** `spec.behavior` of a manifest with Kubernetes' defaults filled in. */
export function resolveBehavior(behavior?: {
  scaleUp?: Partial<ScalingRules>;
  scaleDown?: Partial<ScalingRules>;
}): HpaBehavior {
  return {
    scaleUp: { ...DEFAULT_SCALE_UP, ...behavior?.scaleUp },
    scaleDown: { ...DEFAULT_SCALE_DOWN, ...behavior?.scaleDown },
  };
}

/** One metric's proposal: ceil(current × value / target), or current within the tolerance. */
export function proposeReplicas(
  current: number,
  value: number,
  target: number,
  tolerance = DEFAULT_TOLERANCE,
): number {
  const ratio = value / target;
  if (Math.abs(ratio - 1) <= tolerance) return current;
  return Math.ceil(ratio * current);
}

export interface HpaSpec {
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly behavior: HpaBehavior;
  readonly tolerance?: number;
}

interface Timed {
  readonly at: number;
  readonly value: number;
}

/** What one controller sync decided. */
export interface HpaDecision {
  /** The highest metric proposal, before stabilization. */
  readonly desired: number;
  /** After the stabilization windows. */
  readonly stabilized: number;
  /** After the rate policies and min/max: the new replica count. */
  readonly replicas: number;
  /** What held the count back, if anything. */
  readonly limitedBy: 'none' | 'stabilization' | 'scaleUp policy' | 'scaleDown policy' | 'min' | 'max';
}

/** The controller's memory for one HPA: recommendations and scale events over time. */
export class HpaController {
  readonly spec: HpaSpec;
  #replicas: number;
  readonly #recommendations: Timed[] = [];
  readonly #scaleUps: Timed[] = [];
  readonly #scaleDowns: Timed[] = [];

  constructor(spec: HpaSpec, initialReplicas: number) {
    this.spec = spec;
    this.#replicas = initialReplicas;
  }

  get replicas(): number {
    return this.#replicas;
  }

  /**
   * One sync at time `now` (seconds) with the highest metric proposal `desired`
   * (from {@link proposeReplicas} against the current count).
   */
  sync(now: number, desired: number): HpaDecision {
    const { minReplicas, maxReplicas, behavior } = this.spec;
    const current = this.#replicas;
    // Out of range (min or max changed): straight back into it, as the controller does.
    if (current > maxReplicas || current < minReplicas) {
      const replicas = current > maxReplicas ? maxReplicas : minReplicas;
      this.#record(now, current, replicas);
      return { desired, stabilized: replicas, replicas, limitedBy: current > maxReplicas ? 'max' : 'min' };
    }
    const stabilized = this.#stabilize(now, current, desired);
    let replicas = stabilized;
    let limitedBy: HpaDecision['limitedBy'] = stabilized === desired ? 'none' : 'stabilization';
    if (stabilized > current) {
      const policyLimit = Math.max(current, this.#limit(now, current, behavior.scaleUp, 'up'));
      const allowed = Math.min(maxReplicas, policyLimit);
      if (stabilized > allowed) {
        replicas = allowed;
        limitedBy = allowed === maxReplicas && maxReplicas < policyLimit ? 'max' : 'scaleUp policy';
      }
    } else if (stabilized < current) {
      const policyLimit = Math.min(current, this.#limit(now, current, behavior.scaleDown, 'down'));
      const allowed = Math.max(minReplicas, policyLimit);
      if (stabilized < allowed) {
        replicas = allowed;
        limitedBy = allowed === minReplicas && minReplicas > policyLimit ? 'min' : 'scaleDown policy';
      }
    }
    this.#record(now, current, replicas);
    return { desired, stabilized, replicas, limitedBy };
  }

  /** Scale up to the lowest, down to the highest recommendation within the windows (this one included). */
  #stabilize(now: number, current: number, desired: number): number {
    const { scaleUp, scaleDown } = this.spec.behavior;
    const upCutoff = now - scaleUp.stabilizationWindowSeconds;
    const downCutoff = now - scaleDown.stabilizationWindowSeconds;
    let up = desired;
    let down = desired;
    for (const r of this.#recommendations) {
      if (r.at > upCutoff) up = Math.min(up, r.value);
      if (r.at > downCutoff) down = Math.max(down, r.value);
    }
    this.#recommendations.push({ at: now, value: desired });
    const oldest = Math.min(upCutoff, downCutoff);
    while (this.#recommendations.length > 0 && this.#recommendations[0]!.at <= oldest) {
      this.#recommendations.shift();
    }
    let recommendation = current;
    if (recommendation < up) recommendation = up;
    if (recommendation > down) recommendation = down;
    return recommendation;
  }

  /** The furthest the policies let the count go from `current` now, given recent scale events. */
  #limit(now: number, current: number, rules: ScalingRules, direction: 'up' | 'down'): number {
    if (rules.selectPolicy === 'Disabled') return current;
    // Up, "Max" wants the largest result; down, "Max" (the biggest change) wants the smallest.
    const pickLargest = (rules.selectPolicy === 'Max') === (direction === 'up');
    let result = pickLargest ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
    for (const policy of rules.policies) {
      const added = changedWithin(this.#scaleUps, now, policy.periodSeconds);
      const removed = changedWithin(this.#scaleDowns, now, policy.periodSeconds);
      const periodStart = current - added + removed;
      let proposed: number;
      if (policy.type === 'Pods') {
        proposed = direction === 'up' ? periodStart + policy.value : periodStart - policy.value;
      } else if (direction === 'up') {
        proposed = Math.ceil(periodStart * (1 + policy.value / 100));
      } else {
        proposed = Math.floor(periodStart * (1 - policy.value / 100));
      }
      result = pickLargest ? Math.max(result, proposed) : Math.min(result, proposed);
    }
    return result;
  }

  #record(now: number, from: number, to: number): void {
    if (to > from) this.#scaleUps.push({ at: now, value: to - from });
    if (to < from) this.#scaleDowns.push({ at: now, value: from - to });
    this.#replicas = to;
  }
}

/** Replicas added (or removed) by events strictly after `now - periodSeconds`. */
function changedWithin(events: readonly Timed[], now: number, periodSeconds: number): number {
  let sum = 0;
  for (const e of events) if (e.at > now - periodSeconds) sum += e.value;
  return sum;
}

/** A metric of the HPA, as the replay feeds it: a fleet-wide total turned into the per-pod value. */
export interface ReplayMetric {
  readonly name: string;
  readonly target: number;
  /** The per-pod value the HPA compares with `target` when `total` spreads over `replicas` pods. */
  readonly perPod: (total: number, replicas: number) => number;
}

/** One controller sync of a replay: the fleet-wide totals recorded at that time. */
export interface ReplaySample {
  readonly at: number;
  readonly totals: Readonly<Record<string, number>>;
}

export interface ReplayStep extends HpaDecision {
  readonly at: number;
  readonly before: number;
  readonly totals: Readonly<Record<string, number>>;
  /** Each metric's per-pod value and proposal at the count before this sync. */
  readonly metrics: ReadonlyArray<{ name: string; perPod: number; proposal: number }>;
}

/**
 * Replays recorded totals through the controller. The load is taken as independent of the
 * replica count (the same requests in flight spread over more pods), so each sync sees
 * total / replicas per pod at the count the previous sync left.
 */
export function replayHpa(
  spec: HpaSpec,
  metrics: readonly ReplayMetric[],
  samples: readonly ReplaySample[],
  initialReplicas: number,
): ReplayStep[] {
  const controller = new HpaController(spec, initialReplicas);
  const steps: ReplayStep[] = [];
  for (const sample of samples) {
    const before = controller.replicas;
    const readings = metrics.map((m) => {
      const total = sample.totals[m.name];
      if (total === undefined || !Number.isFinite(total)) {
        throw new Error(`sample at ${sample.at} s has no value for ${m.name}`);
      }
      const perPod = m.perPod(total, before);
      return { name: m.name, perPod, proposal: proposeReplicas(before, perPod, m.target, spec.tolerance) };
    });
    const desired = Math.max(...readings.map((r) => r.proposal));
    steps.push({
      at: sample.at,
      before,
      totals: sample.totals,
      metrics: readings,
      ...controller.sync(sample.at, desired),
    });
  }
  return steps;
}

/** A Kubernetes quantity as a number: "10", "250m", "0.6", "1k", "128Mi". */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const m = /^([+-]?\d+(?:\.\d+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity.trim());
  if (m === null) throw new Error(`not a quantity: ${JSON.stringify(quantity)}`);
  const scale: Record<string, number> = {
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
  };
  return Number(m[1]) * (m[2] === undefined ? 1 : scale[m[2]]!);
}
