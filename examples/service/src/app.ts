import { setTimeout as sleep } from 'node:timers/promises';
import { getRequestContext, type Readykit, readykit, TracingErrorCodes } from '@readykit/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ServiceConfig } from './config.ts';
import { createInventoryDispatcher } from './inventory-dispatcher.ts';
import { SimulatedPool } from './simulated-pool.ts';

export interface ServiceApp {
  readonly app: express.Express;
  readonly kit: Readykit;
  readonly pool: SimulatedPool;
  /** Latency added to every /api response on top of LATENCY_MS, changeable while running (see TOGGLE_LATENCY_MS). */
  readonly latency: { extraMs: number };
}

/** The example service: what a team's Express service looks like with readykit added. */
export function createServiceApp(
  config: ServiceConfig,
  log: (line: string) => void = console.log,
): ServiceApp {
  const pool = new SimulatedPool(config.warmupMs);
  const kit = readykit({
    // The pool gate keeps the pod out of rotation until the pool is connected.
    gates: { pool: (signal) => pool.connect(signal) },
    readiness: { database: (signal) => pool.ping(signal) },
    hooks: { 'close-pool': () => pool.end() },
    ...(config.shutdownDelayMs === undefined ? {} : { shutdown: { delay: config.shutdownDelayMs } }),
    // LOAD_REPORT=true: each response tells balancers how loaded this instance is (ORCA header).
    ...(config.loadReport ? { metrics: { loadReport: true } } : {}),
  });
  kit.health.on('state', ({ from, to }) => log(`state ${from} -> ${to}`));
  kit.health.on('shutdown', ({ phase, elapsed, detail }) => log(`shutdown ${phase} +${elapsed}ms ${detail}`));

  const app = express();
  app.disable('x-powered-by');
  app.use(kit);
  app.use(express.json({ limit: '100kb' }));

  // INVENTORY_BACKENDS: each inventory call balanced over those instances; else a plain fetch.
  const inventory = createInventoryDispatcher(config, kit, log);
  // The cast: Node's fetch is typed with its bundled undici-types, the dispatcher with undici 8's;
  // the two Dispatcher types differ only in FormData typings, which this GET never sends.
  const inventoryInit: RequestInit =
    inventory === undefined ? {} : { dispatcher: inventory as unknown as RequestInit['dispatcher'] };

  const api = express.Router();
  const latency = { extraMs: 0 };
  if (config.latencyMs > 0 || config.toggleLatencyMs !== undefined) {
    api.use(async (_req, _res, next) => {
      const ms = config.latencyMs + latency.extraMs;
      if (ms > 0) await sleep(ms);
      next();
    });
  }
  api.get('/items/:id', (req, res) => {
    res.json({ id: req.params.id, name: `item ${req.params.id}` });
  });

  // Two services in one binary: /items/:id/stock asks the inventory service (INVENTORY_URL,
  // another instance, or one of INVENTORY_BACKENDS) for /stock/:id. The kit adds the trace, the request id and the remaining
  // budget to the fetch by itself, and aborts it when the budget runs out.
  api.get('/items/:id/stock', async (req, res) => {
    if (config.inventoryUrl === undefined) {
      res.status(503).json({ error: 'no inventory service configured (INVENTORY_URL)' });
      return;
    }
    const trace = traceView(); // before the call, so its budget is what the call starts from
    const upstream = await fetch(
      new URL(`api/stock/${encodeURIComponent(req.params.id)}`, config.inventoryUrl),
      inventoryInit,
    );
    if (!upstream.ok) {
      res.status(502).json({ error: `inventory service answered ${upstream.status}` });
      return;
    }
    res.json({ id: req.params.id, trace, inventory: await upstream.json() });
  });
  api.get('/stock/:id', (req, res) => {
    res.json({ id: req.params.id, units: 12, instance: config.instanceName, trace: traceView() });
  });

  const users = express.Router({ mergeParams: true });
  users.get('/:id/orders', (req, res) => {
    res.json({ user: req.params.id, orders: [{ id: 1, total: 9.5 }] });
  });
  api.use('/users', users);

  api.post('/orders', (req, res) => {
    const body: unknown = req.body;
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items) || items.length === 0 || !items.every(isLine)) {
      res
        .status(400)
        .json({ error: 'body must be {"items": [{"sku": string, "qty": positive integer}, ...]}' });
      return;
    }
    res.status(201).json({ accepted: items.length, units: items.reduce((n, line) => n + line.qty, 0) });
  });
  app.use('/api', api);

  app.get('/', (_req, res) => {
    res.type('text/plain').send('readykit example service: try /api/items/42, /readyz?verbose\n');
  });

  // Errors answer with a short message, never a stack trace.
  app.use((error: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = statusOf(error);
    res.status(status).json({ error: ERROR_MESSAGES[status] ?? 'bad request' });
  });
  return { app, kit, pool, latency };
}

/** What this service knows of the request's trace; the demo shows it hop by hop. */
function traceView() {
  const rc = getRequestContext();
  if (rc === undefined) return null;
  return {
    traceId: rc.traceId,
    spanId: rc.spanId,
    parentSpanId: rc.parentSpanId ?? null,
    sampled: rc.sampled,
    requestId: rc.requestId,
    budgetMs: Math.floor(rc.remainingMs()),
  };
}

const ERROR_MESSAGES: Record<number, string> = {
  500: 'internal error',
  502: 'inventory service unreachable',
  504: 'deadline exceeded before the inventory service answered',
};

function isLine(value: unknown): value is { sku: string; qty: number } {
  const line = value as { sku?: unknown; qty?: unknown } | null;
  return (
    typeof line === 'object' &&
    line !== null &&
    typeof line.sku === 'string' &&
    Number.isInteger(line.qty) &&
    (line.qty as number) > 0
  );
}

function statusOf(error: unknown): number {
  // fetch wraps the kit's abort in a TypeError; the code is on its cause.
  const code = (error as { code?: unknown; cause?: { code?: unknown } } | null)?.cause?.code;
  if (code === TracingErrorCodes.DEADLINE_EXCEEDED) return 504;
  if (error instanceof TypeError && (error as { cause?: unknown }).cause !== undefined) return 502;
  const status = (error as { status?: unknown; statusCode?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : 500;
}
