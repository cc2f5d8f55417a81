import type { IncomingMessage } from 'node:http';
import { register } from 'node:module';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { setActiveTracingSdk } from './sdk-handle.ts';

/** Paths whose requests get no span: kubelet probes and Prometheus scrapes every few seconds are noise in a trace backend. */
const UNTRACED = /^\/(?:healthz|readyz|livez|metrics)(?:[/?]|$)/;

/**
 * Starts `@opentelemetry/sdk-node` from the standard `OTEL_*` variables (service name, exporter,
 * OTLP endpoint and protocol, sampler, propagators) with HTTP, Express and undici/fetch
 * instrumentation. Metrics and logs stay off unless their `OTEL_*_EXPORTER` asks: readykit
 * serves metrics on `/metrics` already.
 */
export function startTracingSdk(env: NodeJS.ProcessEnv = process.env): NodeSDK {
  env.OTEL_METRICS_EXPORTER ??= 'none';
  env.OTEL_LOGS_EXPORTER ??= 'none';
  // ESM apps import their modules through the ESM loader, which require-in-the-middle never
  // sees: import-in-the-middle's hook lets the instrumentations patch those too.
  register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
  const sdk = new NodeSDK({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req: IncomingMessage) => UNTRACED.test(req.url ?? ''),
      }),
      // The kit's own middleware gets no span: it would only add noise, and its code must see
      // the server span as active so request contexts carry the server span's id.
      new ExpressInstrumentation({ ignoreLayers: [/^middleware - readykitMiddleware$/] }),
      new UndiciInstrumentation(),
    ],
  });
  sdk.start();
  setActiveTracingSdk(sdk);
  return sdk;
}
