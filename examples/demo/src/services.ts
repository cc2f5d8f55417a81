import { fileURLToPath } from 'node:url';
import { type DemoProcess, startProcess } from './child-process.ts';

const EXAMPLE_SERVICE = fileURLToPath(new URL('../../service/src/server.ts', import.meta.url));
const PLAIN_SERVICE = fileURLToPath(new URL('./plain-service.ts', import.meta.url));

/** Which services stand behind the balancer: the example service (with readykit) or plain Express. */
export type ServiceKind = 'readykit' | 'plain';

/** How one instance is started; a replacement reuses it with the port it had. */
export interface ServiceSpec {
  readonly name: string;
  readonly warmupMs: number;
}

export interface RunningService {
  readonly spec: ServiceSpec;
  readonly url: string;
  readonly port: number;
  readonly process: DemoProcess;
}

/**
 * Long enough for the balancer to see the 503 of a draining instance (a probe every 500 ms,
 * jittered 10 %) with a margin, before the instance stops accepting connections.
 */
export const SHUTDOWN_DELAY_MS = 1500;
/** What "degraded" adds to a service's answers. */
export const DEGRADE_MS = 50;

/** Starts one instance on `port` (0: a free one) and resolves once it listens. */
export async function startService(
  kind: ServiceKind,
  spec: ServiceSpec,
  port: number,
  onLine: (line: string) => void,
): Promise<RunningService> {
  const script = kind === 'readykit' ? EXAMPLE_SERVICE : PLAIN_SERVICE;
  const child = startProcess(
    spec.name,
    process.execPath,
    [script],
    {
      PORT: String(port),
      HOST: '127.0.0.1',
      WARMUP_MS: String(spec.warmupMs),
      SHUTDOWN_DELAY_MS: String(SHUTDOWN_DELAY_MS),
      TOGGLE_LATENCY_MS: String(DEGRADE_MS),
    },
    onLine,
  );
  const url = await child.waitForLine(/listening on (http:\/\/[\d.]+:\d+)/, 15_000);
  return { spec, url, port: Number(new URL(url).port), process: child };
}
