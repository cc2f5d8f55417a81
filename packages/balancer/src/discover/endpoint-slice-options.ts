import { KubeConfig } from '@kubernetes/client-node';
import type { BackoffPolicy } from '@readykit/health';
import { BalancerError, BalancerErrorCodes, invalidConfig } from '../errors.ts';
import type { OptionSpec } from '../option-table.ts';
import { readOptionValue } from '../option-values.ts';
import type { SlicePortChoice } from './endpoint-slice-backends.ts';

/** Options of {@link EndpointSliceDiscovery}; config keys are `kubernetes.<name>`. */
export interface EndpointSliceDiscoveryOptions {
  /** The Service whose EndpointSlices give the backends: `name` or `namespace/name`. The namespace defaults to the kubeconfig context's (in a pod: the pod's own), else `default`. */
  readonly service: string;
  /** The endpoint port to send to, by name (`http`) or number (`8080`, the target port, not the Service's). @default the slice's only port */
  readonly port?: string | number;
  /** How to speak to the backends. @default 'http' */
  readonly scheme?: 'http' | 'https';
  /** Path of a kubeconfig file. @default KUBECONFIG, else ~/.kube/config, else the in-cluster service account */
  readonly kubeconfig?: string;
  /** Wait before retrying after an API error: doubles from `initial` up to `max`, with jitter (ms or a duration string). @default { initial: 500, max: 30000 } */
  readonly backoff?: { readonly initial?: number | string; readonly max?: number | string };
  /** One line per notable event (relist after 410, API error and backoff, backend set changes). @default none */
  readonly log?: (line: string) => void;
  /** A loaded client configuration, instead of `kubeconfig` (embedding programs and tests). */
  readonly kubeConfig?: KubeConfig;
}

/** The options checked and completed. */
export interface EndpointSliceSettings {
  readonly namespace: string;
  readonly service: string;
  readonly port: SlicePortChoice;
  readonly scheme: 'http' | 'https';
  readonly kubeConfig: KubeConfig;
  readonly backoff: BackoffPolicy;
  readonly log: (line: string) => void;
}

const PREFIX = 'kubernetes';
const KEYS = new Set(['service', 'port', 'scheme', 'kubeconfig', 'backoff', 'log', 'kubeConfig']);
// A namespace is a DNS-1123 label, a Service name a DNS-1035 label (starts with a letter).
const SERVICE = /^(?:([a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)\/)?([a-z](?:[-a-z0-9]{0,61}[a-z0-9])?)$/;
// Service port names are DNS-1123 labels; an all-digit one is a number.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?$/;
const DEFAULT_BACKOFF: BackoffPolicy = { initialDelay: 500, maxDelay: 30_000 };

/** Checks the options once, loads the kubeconfig and settles the namespace; throws `RK_ERR_INVALID_CONFIG` naming the key. */
export function resolveEndpointSliceOptions(options: EndpointSliceDiscoveryOptions): EndpointSliceSettings {
  if (typeof options !== 'object' || options === null) throw invalidConfig(PREFIX, 'an object', options);
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key))
      throw invalidConfig(`${PREFIX}.${key}`, `absent (known: ${[...KEYS].join(', ')})`, key);
  }
  const service = typeof options.service === 'string' ? SERVICE.exec(options.service) : null;
  if (service === null) {
    throw invalidConfig(
      `${PREFIX}.service`,
      'a Service as "name" or "namespace/name" (lowercase DNS labels)',
      options.service,
    );
  }
  const scheme = options.scheme ?? 'http';
  if (scheme !== 'http' && scheme !== 'https')
    throw invalidConfig(`${PREFIX}.scheme`, '"http" or "https"', scheme);
  if (options.log !== undefined && typeof options.log !== 'function') {
    throw invalidConfig(`${PREFIX}.log`, 'a function', options.log);
  }
  const port = readPort(options.port);
  const backoff = readBackoff(options.backoff);
  // Last: loading reads files, and a plain mistake above is worth reporting first.
  const kubeConfig = loadKubeConfig(options);
  const namespace =
    service[1] ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace?.trim();
  return {
    namespace: namespace === undefined || namespace === '' ? 'default' : namespace,
    service: service[2]!,
    port,
    scheme,
    kubeConfig,
    backoff,
    log: options.log ?? (() => {}),
  };
}

function readPort(raw: unknown): SlicePortChoice {
  if (raw === undefined) return undefined;
  const n = typeof raw === 'string' && /^\d{1,5}$/.test(raw) ? Number(raw) : raw;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65_535) return n;
  if (typeof n === 'string' && PORT_NAME.test(n)) return n;
  throw invalidConfig(`${PREFIX}.port`, 'a port name (a lowercase DNS label) or number from 1 to 65535', raw);
}

function readBackoff(raw: unknown): BackoffPolicy {
  if (raw === undefined) return DEFAULT_BACKOFF;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw invalidConfig(`${PREFIX}.backoff`, 'an object with initial and max', raw);
  }
  const fields = raw as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (key !== 'initial' && key !== 'max')
      throw invalidConfig(`${PREFIX}.backoff.${key}`, 'absent (known: initial, max)', key);
  }
  const initialDelay =
    fields.initial === undefined
      ? DEFAULT_BACKOFF.initialDelay
      : duration('backoff.initial', fields.initial, 1, 60_000);
  const maxDelay =
    fields.max === undefined
      ? Math.max(DEFAULT_BACKOFF.maxDelay, initialDelay)
      : duration('backoff.max', fields.max, initialDelay, 600_000);
  return { initialDelay, maxDelay };
}

function duration(key: string, raw: unknown, min: number, max: number): number {
  const spec: OptionSpec = {
    key: `${PREFIX}.${key}`,
    flag: '',
    kind: 'duration',
    default: undefined,
    min,
    max,
    help: '',
  };
  return readOptionValue(spec, raw) as number;
}

function loadKubeConfig(options: EndpointSliceDiscoveryOptions): KubeConfig {
  if (options.kubeConfig !== undefined) {
    if (options.kubeconfig !== undefined) {
      throw invalidConfig(
        `${PREFIX}.kubeconfig`,
        'absent when a loaded kubeConfig is given',
        options.kubeconfig,
      );
    }
    if (!(options.kubeConfig instanceof KubeConfig)) {
      throw invalidConfig(
        `${PREFIX}.kubeConfig`,
        'a KubeConfig of @kubernetes/client-node',
        options.kubeConfig,
      );
    }
    return checked(options.kubeConfig, 'kubeConfig', 'the given KubeConfig');
  }
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig !== undefined) {
    if (typeof options.kubeconfig !== 'string' || options.kubeconfig === '') {
      throw invalidConfig(`${PREFIX}.kubeconfig`, 'the path of a kubeconfig file', options.kubeconfig);
    }
    try {
      kubeConfig.loadFromFile(options.kubeconfig);
    } catch (error) {
      throw unusable('kubeconfig', `cannot load ${options.kubeconfig}: ${firstLine(error)}`, error);
    }
    return checked(kubeConfig, 'kubeconfig', options.kubeconfig);
  }
  try {
    kubeConfig.loadFromDefault();
  } catch (error) {
    throw unusable('kubeconfig', `cannot load the default kubeconfig: ${firstLine(error)}`, error);
  }
  // loadFromDefault's last resort is an unauthenticated http://localhost:8080, which is never what a pod wants.
  if (
    kubeConfig.getCurrentContext() === 'loaded-context' &&
    kubeConfig.getCurrentCluster()?.server === 'http://localhost:8080'
  ) {
    throw unusable(
      'kubeconfig',
      'no Kubernetes configuration found: set kubernetes.kubeconfig (--kubeconfig) or KUBECONFIG, have ~/.kube/config, or run in a pod with a service account token',
    );
  }
  return checked(kubeConfig, 'kubeconfig', 'the default kubeconfig');
}

function checked(kubeConfig: KubeConfig, key: string, what: string): KubeConfig {
  const cluster = kubeConfig.getCurrentCluster();
  if (cluster === null || typeof cluster.server !== 'string' || URL.parse(cluster.server) === null) {
    throw unusable(key, `${what} has no current context with a cluster server URL`);
  }
  return kubeConfig;
}

function unusable(key: string, why: string, cause?: unknown): BalancerError {
  return new BalancerError(BalancerErrorCodes.INVALID_CONFIG, `${PREFIX}.${key}: ${why}`, { cause });
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n', 1)[0]!;
}
