import { ALGORITHM_NAMES } from './balance/candidate.ts';

/** How a setting's value is read from a flag or the config file, and checked. */
export type OptionKind =
  | 'address'
  | 'backends'
  | 'algorithm'
  | 'duration'
  | 'count'
  | 'percent'
  | 'ratio'
  | 'header'
  | 'cookie'
  | 'path'
  | 'cidrs'
  | 'boolean'
  | 'secret'
  | 'dnsTarget'
  | 'service'
  | 'portRef'
  | 'file'
  | 'scheme';

/** One setting: its config key, its flag, its default and what it means. */
export interface OptionSpec {
  /** Dotted path in the YAML config, e.g. `healthCheck.rise`. */
  readonly key: string;
  /** Command-line flag without dashes, e.g. `health-rise`. */
  readonly flag: string;
  readonly kind: OptionKind;
  /** Undefined for settings that are off unless given. */
  readonly default: unknown;
  /** Smallest accepted value, for counts and durations. */
  readonly min?: number;
  /** Largest accepted value, for counts and durations. */
  readonly max?: number;
  /** Whether the flag may be given several times (values accumulate). */
  readonly repeated?: boolean;
  readonly help: string;
}

const S = 1000;

/**
 * Every setting of the balancer, once: the CLI parser, the config-file reader, `--help` and
 * the README check all read this table, so a flag, its config key and its default can never
 * drift apart.
 */
export const OPTION_TABLE: readonly OptionSpec[] = [
  {
    key: 'listen',
    flag: 'listen',
    kind: 'address',
    default: '0.0.0.0:8080',
    help: 'Proxy listener, HOST:PORT (port 0 picks a free one).',
  },
  {
    key: 'admin',
    flag: 'admin',
    kind: 'address',
    default: '127.0.0.1:9901',
    help: 'Admin listener for /metrics, /healthz, /readyz and /api/backends. Loopback by default: keep it off public networks.',
  },
  {
    key: 'adminToken',
    flag: 'admin-token',
    kind: 'secret',
    default: undefined,
    help: "Bearer token every /api/ request must carry (backends, drain, undrain, the dashboard's data); probes and /metrics stay open. Required when the admin listener is not on loopback. Flags show in ps: prefer the config file or READYKIT_BALANCER_ADMIN_TOKEN.",
  },
  {
    key: 'watchConfig',
    flag: 'watch-config',
    kind: 'boolean',
    default: true,
    help: 'Reload the --config file when it changes: backends, weights, algorithm and hashing apply at once, without failing a request; an invalid edit is logged and the last good configuration stays. Other settings need a restart (logged).',
  },
  {
    key: 'backends',
    flag: 'backend',
    kind: 'backends',
    default: [],
    repeated: true,
    help: 'A backend origin, optionally followed by weight=N (1-1000, default 1): --backend http://10.0.0.7:3000 weight=2. Repeat for each backend.',
  },
  {
    key: 'dns.name',
    flag: 'dns',
    kind: 'dnsTarget',
    default: undefined,
    help: "Discover backends in DNS instead: HOST:PORT (every A and AAAA address, that port) or _service._proto.NAME (SRV records: targets, ports and weights). Re-resolved when the records' TTL runs out; a failing resolver keeps the last good set.",
  },
  {
    key: 'dns.resolver',
    flag: 'dns-resolver',
    kind: 'address',
    default: undefined,
    help: "DNS server to ask, HOST:PORT (default: the system's resolvers).",
  },
  {
    key: 'dns.minTtl',
    flag: 'dns-min-ttl',
    kind: 'duration',
    default: S,
    min: 100,
    help: "Re-resolve no more often than this, whatever the records' TTL.",
  },
  {
    key: 'dns.maxTtl',
    flag: 'dns-max-ttl',
    kind: 'duration',
    default: 60 * S,
    min: 100,
    help: "Re-resolve at least this often, whatever the records' TTL.",
  },
  {
    key: 'kubernetes.service',
    flag: 'k8s-service',
    kind: 'service',
    default: undefined,
    help: 'Discover backends from the EndpointSlices of this Service, [NAMESPACE/]NAME (in-cluster credentials, else KUBECONFIG). Terminating endpoints that still serve get no new requests.',
  },
  {
    key: 'kubernetes.port',
    flag: 'k8s-port',
    kind: 'portRef',
    default: undefined,
    help: 'The EndpointSlice port to send to, by name or number (default: the only one).',
  },
  {
    key: 'kubernetes.kubeconfig',
    flag: 'kubeconfig',
    kind: 'file',
    default: undefined,
    help: 'Kubeconfig file outside a cluster (default: in-cluster credentials, else $KUBECONFIG, else ~/.kube/config).',
  },
  {
    key: 'discoveryScheme',
    flag: 'discovery-scheme',
    kind: 'scheme',
    default: 'http',
    help: 'Scheme of the backends DNS or Kubernetes discovery finds: http or https.',
  },
  {
    key: 'algorithm',
    flag: 'algorithm',
    kind: 'algorithm',
    default: 'p2c-ewma',
    help: `Balancing algorithm: ${ALGORITHM_NAMES.join(', ')}.`,
  },
  {
    key: 'hashHeader',
    flag: 'hash-header',
    kind: 'header',
    default: undefined,
    help: 'maglev: the request header whose value picks the backend (sticky sessions).',
  },
  {
    key: 'hashCookie',
    flag: 'hash-cookie',
    kind: 'cookie',
    default: undefined,
    help: 'maglev: the cookie whose value picks the backend; used when the header is absent.',
  },
  {
    key: 'maglevTableSize',
    flag: 'maglev-table-size',
    kind: 'count',
    default: 65_537,
    min: 7,
    max: 5_000_011,
    help: 'maglev: lookup table size, a prime well above the number of backends.',
  },
  {
    key: 'healthCheck.path',
    flag: 'health-path',
    kind: 'path',
    default: '/readyz',
    help: 'Readiness path probed on every backend; 2xx is ready, 503 means warming or draining.',
  },
  {
    key: 'healthCheck.interval',
    flag: 'health-interval',
    kind: 'duration',
    default: 2 * S,
    min: 50,
    help: 'Time between two probes of a backend (jittered by 10 %).',
  },
  {
    key: 'healthCheck.timeout',
    flag: 'health-timeout',
    kind: 'duration',
    default: 1 * S,
    min: 10,
    help: 'A probe without an answer by then counts as failed; at most the interval (a shorter interval shortens the default).',
  },
  {
    key: 'healthCheck.rise',
    flag: 'health-rise',
    kind: 'count',
    default: 2,
    min: 1,
    max: 100,
    help: 'Consecutive passing probes that bring a down or draining backend back (a new backend needs one).',
  },
  {
    key: 'healthCheck.fall',
    flag: 'health-fall',
    kind: 'count',
    default: 3,
    min: 1,
    max: 100,
    help: 'Consecutive failed probes (no answer, or an answer other than 2xx and 503) that take a backend down. A 503 acts at once.',
  },
  {
    key: 'slowStart.window',
    flag: 'slow-start-window',
    kind: 'duration',
    default: 10 * S,
    help: 'A backend that becomes ready ramps up to its full weight over this window; 0 turns slow start off.',
  },
  {
    key: 'slowStart.minPercent',
    flag: 'slow-start-min-percent',
    kind: 'percent',
    default: 10,
    min: 1,
    help: 'Share of its weight a backend gets at the start of the window.',
  },
  {
    key: 'slowStart.aggression',
    flag: 'slow-start-aggression',
    kind: 'ratio',
    default: 1,
    min: 0.1,
    max: 10,
    help: 'Shape of the ramp: weight grows as (t / window)^(1 / aggression); 1 is linear.',
  },
  {
    key: 'outlier.consecutiveFailures',
    flag: 'outlier-failures',
    kind: 'count',
    default: 5,
    min: 1,
    max: 1000,
    help: 'Consecutive 5xx answers, connection failures or requests left unanswered for the whole first-byte timeout that eject a backend.',
  },
  {
    key: 'outlier.baseEjectionTime',
    flag: 'outlier-base-ejection',
    kind: 'duration',
    default: 30 * S,
    help: 'First ejection length; each repeated ejection lasts this times the number of ejections.',
  },
  {
    key: 'outlier.maxEjectionTime',
    flag: 'outlier-max-ejection',
    kind: 'duration',
    default: 300 * S,
    help: 'Longest ejection.',
  },
  {
    key: 'outlier.maxEjectionPercent',
    flag: 'outlier-max-percent',
    kind: 'percent',
    default: 50,
    help: 'At most this share of the backends is ejected at once (one may always be).',
  },
  {
    key: 'panicThreshold',
    flag: 'panic-threshold',
    kind: 'percent',
    default: 50,
    help: 'Below this share of healthy backends, route to every backend that still answers rather than fail requests; 0 turns panic mode off.',
  },
  {
    key: 'retry.maxRetries',
    flag: 'retries',
    kind: 'count',
    default: 2,
    min: 0,
    max: 10,
    help: 'Retries of one request, each to a different backend, for idempotent methods or requests with an Idempotency-Key and no body.',
  },
  {
    key: 'retry.budgetRatio',
    flag: 'retry-budget-ratio',
    kind: 'ratio',
    default: 0.2,
    min: 0,
    max: 1,
    help: 'Retries allowed as a share of requests over the last 10 s.',
  },
  {
    key: 'retry.minPerSecond',
    flag: 'retry-min-per-second',
    kind: 'count',
    default: 10,
    min: 0,
    max: 100_000,
    help: 'Retries per second always allowed, on top of the ratio.',
  },
  {
    key: 'timeouts.connect',
    flag: 'connect-timeout',
    kind: 'duration',
    default: 3 * S,
    min: 1,
    help: 'Connecting to a backend.',
  },
  {
    key: 'timeouts.firstByte',
    flag: 'first-byte-timeout',
    kind: 'duration',
    default: 30 * S,
    min: 1,
    help: "Waiting for a backend's response headers; also the deadline sent downstream when the request brings none. A shorter incoming deadline wins (504).",
  },
  {
    key: 'timeouts.total',
    flag: 'total-timeout',
    kind: 'duration',
    default: 300 * S,
    help: 'The whole exchange, bodies included; 0 for none.',
  },
  {
    key: 'timeouts.clientHeaders',
    flag: 'client-header-timeout',
    kind: 'duration',
    default: 10 * S,
    min: 1,
    help: 'A client must send its request headers within this (slow clients cannot hold the proxy).',
  },
  {
    key: 'timeouts.clientRequest',
    flag: 'client-request-timeout',
    kind: 'duration',
    default: 300 * S,
    help: 'A client must send its whole request, body included, within this; 0 for none.',
  },
  {
    key: 'timeouts.clientIdle',
    flag: 'client-idle-timeout',
    kind: 'duration',
    default: 5 * S,
    min: 1,
    help: 'An idle client keep-alive connection is closed after this.',
  },
  {
    key: 'timeouts.upstreamIdle',
    flag: 'upstream-idle-timeout',
    kind: 'duration',
    default: 4 * S,
    min: 1,
    help: "An idle pooled backend connection is closed after this; keep it below the backends' keep-alive timeout (Node: 5 s).",
  },
  {
    key: 'limits.maxConnections',
    flag: 'max-connections',
    kind: 'count',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    help: 'Client connections accepted at once; more are refused.',
  },
  {
    key: 'limits.backendConnections',
    flag: 'backend-connections',
    kind: 'count',
    default: 128,
    min: 1,
    max: 100_000,
    help: 'Pooled connections per backend.',
  },
  {
    key: 'limits.maxHeaderSize',
    flag: 'max-header-size',
    kind: 'count',
    default: 16_384,
    min: 1024,
    max: 1_048_576,
    help: 'Largest request head in bytes; larger ones get 431.',
  },
  {
    key: 'trustedProxies',
    flag: 'trusted-proxy',
    kind: 'cidrs',
    default: [],
    repeated: true,
    help: 'Peers (IP or CIDR) whose X-Forwarded-* and Forwarded headers are kept and appended to; from anyone else they are replaced.',
  },
  {
    key: 'ewma.decay',
    flag: 'ewma-decay',
    kind: 'duration',
    default: 10 * S,
    min: 1,
    help: 'Peak-EWMA decay time: how fast a latency estimate forgets.',
  },
  {
    key: 'ewma.prior',
    flag: 'ewma-prior',
    kind: 'duration',
    default: 30,
    min: 0,
    help: 'Latency assumed for a backend with no history yet (ms).',
  },
  {
    key: 'ewma.failurePenalty',
    flag: 'failure-penalty',
    kind: 'duration',
    default: 1 * S,
    help: 'A failed request counts as this latency (ms), so a backend that fails fast does not look fast.',
  },
  {
    key: 'loadReport.weight',
    flag: 'load-report-weight',
    kind: 'ratio',
    default: 1,
    min: 0,
    max: 10,
    help: "How much a backend's own load report (endpoint-load-metrics: application_utilization) raises its p2c-ewma cost; 0 ignores reports.",
  },
  {
    key: 'loadReport.decay',
    flag: 'load-report-decay',
    kind: 'duration',
    default: 5 * S,
    min: 1,
    help: 'How fast a load report fades once no new one arrives, so a backend it kept idle is tried again.',
  },
  {
    key: 'deadline.header',
    flag: 'deadline-header',
    kind: 'header',
    default: 'x-readykit-timeout-ms',
    help: "readykit's deadline header, read and sent downstream with the remaining budget in ms (also read: grpc-timeout, x-envoy-expected-rq-timeout-ms).",
  },
  {
    key: 'deadline.max',
    flag: 'deadline-max',
    kind: 'duration',
    default: 60 * S,
    min: 1,
    help: 'Incoming deadlines are clamped to this.',
  },
  {
    key: 'deadline.margin',
    flag: 'deadline-margin',
    kind: 'duration',
    default: 5,
    min: 1,
    help: 'Subtracted from the remaining budget sent downstream, for the hop itself.',
  },
  {
    key: 'shutdown.delay',
    flag: 'shutdown-delay',
    kind: 'duration',
    default: undefined,
    help: 'After SIGTERM, keep serving this long while /readyz says 503 (default 5 s inside Kubernetes, 0 elsewhere).',
  },
  {
    key: 'shutdown.drainTimeout',
    flag: 'drain-timeout',
    kind: 'duration',
    default: 10 * S,
    help: 'Then wait this long at most for requests in flight.',
  },
];

/** Flags that are not settings. */
export const CLI_ONLY_FLAGS = ['config', 'help', 'version'] as const;
