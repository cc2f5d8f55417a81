import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  DEFAULT_SCALE_DOWN,
  DEFAULT_SCALE_UP,
  HpaController,
  type HpaSpec,
  parseQuantity,
  proposeReplicas,
  replayHpa,
  resolveBehavior,
  type ScalingRules,
} from '../support/hpa-replay.ts';

// The rules of test/support/hpa-replay.ts, one by one, on hand-computed cases. The e2e test
// (kubernetes-prometheus.test.ts) replays the series recorded from a real Prometheus through it.

const IMMEDIATE: ScalingRules = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [] };

function spec(
  overrides: Partial<HpaSpec> & { up?: Partial<ScalingRules>; down?: Partial<ScalingRules> },
): HpaSpec {
  return {
    minReplicas: overrides.minReplicas ?? 1,
    maxReplicas: overrides.maxReplicas ?? 100,
    behavior: {
      scaleUp: {
        ...IMMEDIATE,
        policies: [{ type: 'Pods', value: 1000, periodSeconds: 15 }],
        ...overrides.up,
      },
      scaleDown: {
        ...IMMEDIATE,
        policies: [{ type: 'Pods', value: 1000, periodSeconds: 15 }],
        ...overrides.down,
      },
    },
  };
}

describe('proposal per metric: desired = ceil(current × value / target), tolerance 0.1', () => {
  test('outside the tolerance the ratio scales the current count, rounded up', () => {
    assert.equal(proposeReplicas(4, 12, 10), 5); // ratio 1.2: ceil(4.8)
    assert.equal(proposeReplicas(4, 30, 10), 12);
    assert.equal(proposeReplicas(10, 5, 10), 5);
    assert.equal(proposeReplicas(3, 8.8, 10), 3); // ratio 0.88: ceil(2.64)
    assert.equal(proposeReplicas(2, 0, 10), 0);
  });

  test('within 10 % of the target nothing changes, whatever the rounding would say', () => {
    assert.equal(proposeReplicas(10, 10.9, 10), 10); // ceil(10.9) would be 11
    assert.equal(proposeReplicas(10, 9.1, 10), 10); // ceil(9.1) would be 10 anyway
    assert.equal(proposeReplicas(10, 10.99, 10), 10);
    assert.equal(proposeReplicas(10, 9.01, 10), 10);
    assert.equal(proposeReplicas(10, 11.01, 10), 12);
    assert.equal(proposeReplicas(10, 8.9, 10), 9);
    assert.equal(proposeReplicas(10, 10.9, 10, 0.05), 11); // a tighter tolerance
  });
});

describe('behavior defaults', () => {
  test("Kubernetes' defaults fill what a manifest leaves out", () => {
    assert.deepEqual(resolveBehavior(), { scaleUp: DEFAULT_SCALE_UP, scaleDown: DEFAULT_SCALE_DOWN });
    const b = resolveBehavior({ scaleDown: { stabilizationWindowSeconds: 60 } });
    assert.equal(b.scaleDown.stabilizationWindowSeconds, 60);
    assert.deepEqual(b.scaleDown.policies, [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
    assert.equal(b.scaleUp.stabilizationWindowSeconds, 0);
    assert.deepEqual(
      b.scaleUp.policies.map((p) => `${p.type} ${p.value}/${p.periodSeconds}s`),
      ['Percent 100/15s', 'Pods 4/15s'],
    );
  });
});

describe('scale-up policies', () => {
  test('default policies, selectPolicy Max: the larger of +100 % and +4 pods per 15 s', () => {
    const hpa = new HpaController({ minReplicas: 1, maxReplicas: 100, behavior: resolveBehavior() }, 1);
    assert.equal(hpa.sync(0, 50).replicas, 5); // 1+4 beats 2
    assert.equal(hpa.sync(15, 50).replicas, 10); // 5×2 beats 9
    assert.equal(hpa.sync(30, 50).replicas, 20);
    assert.equal(hpa.sync(45, 50).replicas, 40);
    const last = hpa.sync(60, 50);
    assert.equal(last.replicas, 50);
    assert.equal(last.limitedBy, 'none');
  });

  test('selectPolicy Min takes the smaller change', () => {
    const hpa = new HpaController(
      spec({
        up: {
          selectPolicy: 'Min',
          policies: [
            { type: 'Percent', value: 100, periodSeconds: 15 },
            { type: 'Pods', value: 4, periodSeconds: 15 },
          ],
        },
      }),
      1,
    );
    const first = hpa.sync(0, 50);
    assert.equal(first.replicas, 2); // +100 % (2) is less than +4 (5)
    assert.equal(first.limitedBy, 'scaleUp policy');
    assert.equal(hpa.sync(15, 50).replicas, 4);
    assert.equal(hpa.sync(30, 50).replicas, 8);
    assert.equal(hpa.sync(45, 50).replicas, 12); // now +4 is the smaller
  });

  test('periodSeconds: changes made within the period count against it', () => {
    const hpa = new HpaController(
      spec({ up: { policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }] } }),
      2,
    );
    assert.equal(hpa.sync(0, 20).replicas, 6);
    assert.equal(hpa.sync(15, 20).replicas, 6); // the 4 pods of t=0 used the minute's budget
    assert.equal(hpa.sync(45, 20).replicas, 6);
    assert.equal(hpa.sync(60, 20).replicas, 10); // the t=0 event left the window (strictly after now-60)
    assert.equal(hpa.sync(75, 20).replicas, 10);
    assert.equal(hpa.sync(120, 20).replicas, 14);
  });

  test('Percent rounds up on the way up, so 1 replica can always grow', () => {
    const hpa = new HpaController(
      spec({ up: { policies: [{ type: 'Percent', value: 10, periodSeconds: 15 }] } }),
      1,
    );
    assert.equal(hpa.sync(0, 5).replicas, 2); // ceil(1.1)
    assert.equal(hpa.sync(15, 5).replicas, 3); // ceil(2.2)
  });

  test('selectPolicy Disabled never scales that way', () => {
    const hpa = new HpaController(spec({ up: { selectPolicy: 'Disabled' } }), 3);
    assert.equal(hpa.sync(0, 10).replicas, 3);
    assert.equal(hpa.sync(15, 1).replicas, 1);
  });
});

describe('scale-down policies', () => {
  const policies = [
    { type: 'Percent', value: 50, periodSeconds: 60 },
    { type: 'Pods', value: 2, periodSeconds: 60 },
  ] as const;

  test('selectPolicy Max (the default) takes the bigger change, Percent rounding down', () => {
    const hpa = new HpaController(spec({ down: { policies } }), 20);
    assert.equal(hpa.sync(0, 1).replicas, 10); // -50 % (10) beats -2 (18)
    assert.equal(hpa.sync(30, 1).replicas, 10); // the minute's budget is spent
    assert.equal(hpa.sync(60, 1).replicas, 5);
    assert.equal(hpa.sync(120, 1).replicas, 2); // floor(2.5)
  });

  test('selectPolicy Min takes the smaller change', () => {
    const hpa = new HpaController(spec({ down: { selectPolicy: 'Min', policies } }), 20);
    const first = hpa.sync(0, 1);
    assert.equal(first.replicas, 18);
    assert.equal(first.limitedBy, 'scaleDown policy');
    assert.equal(hpa.sync(60, 1).replicas, 16);
    // From 6: -50 % gives 3, -2 gives 4. Min keeps 4, Max goes to 3.
    assert.equal(
      new HpaController(spec({ down: { selectPolicy: 'Min', policies } }), 6).sync(0, 1).replicas,
      4,
    );
    assert.equal(
      new HpaController(spec({ down: { selectPolicy: 'Max', policies } }), 6).sync(0, 1).replicas,
      3,
    );
  });

  test('minReplicas is a floor whatever the policies allow', () => {
    const hpa = new HpaController(spec({ minReplicas: 6, down: { policies } }), 10);
    const d = hpa.sync(0, 0); // the policies would allow 5
    assert.equal(d.replicas, 6);
    assert.equal(d.limitedBy, 'min');
  });
});

describe('stabilization windows', () => {
  test('scale down follows the highest recommendation of the window', () => {
    const hpa = new HpaController(spec({ down: { stabilizationWindowSeconds: 300 } }), 10);
    assert.equal(hpa.sync(0, 10).replicas, 10);
    assert.equal(hpa.sync(60, 3).replicas, 10); // 10 (t=0) is within 300 s
    assert.equal(hpa.sync(120, 6).replicas, 10);
    assert.equal(hpa.sync(299, 2).replicas, 10);
    const d = hpa.sync(300, 2); // t=0 left the window (strictly after now-300): max(3, 6, 2, 2) = 6
    assert.equal(d.replicas, 6);
    assert.equal(d.limitedBy, 'stabilization');
    assert.equal(hpa.sync(420, 2).replicas, 2); // 6 (t=120) left at 420
  });

  test('scale up follows the lowest recommendation of its window', () => {
    const hpa = new HpaController(spec({ up: { stabilizationWindowSeconds: 60 } }), 2);
    assert.equal(hpa.sync(0, 2).replicas, 2);
    assert.equal(hpa.sync(15, 8).replicas, 2); // 2 (t=0) within 60 s holds it
    assert.equal(hpa.sync(30, 6).replicas, 2);
    assert.equal(hpa.sync(60, 9).replicas, 6); // min(8, 6, 9) once t=0 left
    assert.equal(hpa.sync(90, 9).replicas, 9);
  });

  test('a count between both limits stays where it is', () => {
    const hpa = new HpaController(
      spec({ up: { stabilizationWindowSeconds: 60 }, down: { stabilizationWindowSeconds: 60 } }),
      5,
    );
    assert.equal(hpa.sync(0, 5).replicas, 5);
    assert.equal(hpa.sync(15, 2).replicas, 5); // down limit max(5, 2) = 5
    assert.equal(hpa.sync(30, 9).replicas, 5); // up limit min(5, 2, 9) = 2, down limit 9: 5 is between
  });
});

test('maxReplicas caps the policies', () => {
  const hpa = new HpaController({ minReplicas: 2, maxReplicas: 5, behavior: resolveBehavior() }, 2);
  const d = hpa.sync(0, 40); // the policies would allow 6
  assert.equal(d.replicas, 5);
  assert.equal(d.limitedBy, 'max');
});

test('replay: a steady total settles at ceil(total / target); the highest metric wins', () => {
  const steps = replayHpa(
    { minReplicas: 2, maxReplicas: 20, behavior: resolveBehavior() },
    [
      { name: 'inflight', target: 10, perPod: (total, n) => total / n },
      { name: 'cpu', target: 70, perPod: (cores, n) => (100 * cores) / n / 0.25 },
    ],
    [0, 15, 30, 45].map((at) => ({ at, totals: { inflight: 95, cpu: 0.2 } })),
    2,
  );
  assert.deepEqual(
    steps.map((s) => s.replicas),
    [6, 10, 10, 10],
  );
  assert.deepEqual(
    steps[0]!.metrics.map((m) => m.proposal),
    [10, 2],
  ); // ceil(2 × 47.5/10), ceil(2 × 40/70)
  assert.equal(steps[0]!.limitedBy, 'scaleUp policy');
  // CPU takes over when it is the larger proposal.
  const cpuBound = replayHpa(
    { minReplicas: 2, maxReplicas: 20, behavior: resolveBehavior() },
    [
      { name: 'inflight', target: 10, perPod: (total, n) => total / n },
      { name: 'cpu', target: 70, perPod: (cores, n) => (100 * cores) / n / 0.25 },
    ],
    [{ at: 0, totals: { inflight: 5, cpu: 1.2 } }],
    2,
  );
  // 0.6 cores per pod of a 250m request is 240 %: ceil(2 × 240 / 70) = 7, the +4 policy caps it at 6.
  assert.deepEqual(
    cpuBound[0]!.metrics.map((m) => m.proposal),
    [1, 7],
  ); // in-flight alone: ceil(2 × 2.5/10)
  assert.equal(cpuBound[0]!.replicas, 6);
});

test('quantities', () => {
  assert.equal(parseQuantity('10'), 10);
  assert.equal(parseQuantity('250m'), 0.25);
  assert.equal(parseQuantity('0.6'), 0.6);
  assert.equal(parseQuantity('128Mi'), 128 * 2 ** 20);
  assert.throws(() => parseQuantity('ten'), /not a quantity/);
});
