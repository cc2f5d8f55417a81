/**
 * The server under test for express-overhead.ts, one process per variant, spawned with
 * the variant name as its only argument. One JSON route with a path parameter, as in
 * the anchors measured for this project (`GET /api/items/:id`). Writes `port <n>` once
 * listening; exits when its stdin closes, so it never outlives the bench.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type Context, context, createContextKey, ROOT_CONTEXT } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { readykit, Tracing } from '@readykit/express';
import { createMetrics } from '@readykit/metrics';
import type { RequestHandler } from 'express';
import promBundle from 'express-prom-bundle';
import { VARIANTS, type Variant } from './express-variants.ts';
import { serveItems } from './items-app.ts';

const BENCH_KEY = createContextKey('readykit.bench');

/** A context holding one value over the root context, built without copying anything. */
class OneValueContext implements Context {
  readonly value: number;
  constructor(value: number) {
    this.value = value;
  }
  getValue(key: symbol): unknown {
    return key === BENCH_KEY ? this.value : ROOT_CONTEXT.getValue(key);
  }
  setValue(key: symbol, value: unknown): Context {
    return ROOT_CONTEXT.setValue(BENCH_KEY, this.value).setValue(key, value);
  }
  deleteValue(key: symbol): Context {
    return ROOT_CONTEXT.setValue(BENCH_KEY, this.value).deleteValue(key);
  }
}

function middlewareFor(variant: Variant): RequestHandler | undefined {
  switch (variant) {
    case 'bare':
      return undefined;
    case 'empty-middleware':
      // The floor for any middleware: what Express itself charges for one more layer.
      return (_req, _res, next) => next();
    case 'async-context': {
      // The least any context propagation costs: the rest of the request runs inside an
      // AsyncLocalStorage context, so its awaits and callbacks can find it.
      const storage = new AsyncLocalStorage<number>();
      return (_req, _res, next) => storage.run(1, next);
    }
    case 'otel-context': {
      // The same through the OpenTelemetry context API, as getRequestContext() requires: the
      // AsyncLocalStorage context manager the SDK registers and one context.with() per request,
      // with a context object as small as one can be (the API's own copies a Map per value).
      context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      return (_req, _res, next) => context.with(new OneValueContext(1), next);
    }
    case 'propagation': {
      // Trace, request-id and deadline propagation alone, as @readykit/tracing runs it in the kit.
      const tracing = new Tracing();
      return (req, res, next) => tracing.handle(req, res, next);
    }
    case 'readykit':
    case 'readykit-otel-sdk':
      // What the README tells users to add; signals are left to the bench that spawned us.
      return readykit({ shutdown: { signals: [], exit: false } });
    case 'readykit-no-propagation':
      // Probes, shutdown and metrics: the kit as it was before propagation joined its defaults.
      return readykit({ tracing: false, shutdown: { signals: [], exit: false } });
    case 'readykit-health-only':
      // Probes and shutdown alone.
      return readykit({ tracing: false, metrics: false, shutdown: { signals: [], exit: false } });
    case 'metrics-track': {
      // The metrics' per-request recording alone, without the kit around it.
      const metrics = createMetrics();
      return (req, res, next) => {
        metrics.track(req, res);
        next();
      };
    }
    case 'readykit-load-report':
      // The defaults plus the endpoint-load-metrics header on every response.
      return readykit({ metrics: { loadReport: true }, shutdown: { signals: [], exit: false } });
    case 'otel-sdk':
      // Instrumented by the SDK preloaded with --import; no middleware of its own.
      return undefined;
    case 'express-prom-bundle':
      // The configuration the anchors used: method, path and status labels.
      return promBundle({ includeMethod: true, includePath: true, includeStatusCode: true });
  }
}

const variant = process.argv[2] as Variant;
if (!VARIANTS.includes(variant)) {
  console.error(`express-server: unknown variant ${JSON.stringify(variant)}; one of ${VARIANTS.join(', ')}`);
  process.exit(2);
}
serveItems(middlewareFor(variant));
