import type { Dispatcher } from 'undici';

// Calls the example service's `GET /api/items/:id/stock` and records which inventory instance
// (its INSTANCE_NAME) answered each call, for tests of how a caller spreads its calls.

/** One call, as the test client saw it. */
export interface StockCall {
  /** Index of the caller (the dispatcher) it went through. */
  readonly caller: number;
  /** `performance.now()` when it was sent. */
  readonly startedAt: number;
  /** 0: no answer. */
  readonly status: number;
  /** INSTANCE_NAME of the inventory that answered, or the error. */
  readonly instance: string;
}

async function callStock(d: Dispatcher, caller: number, n: number, calls: StockCall[]): Promise<void> {
  const startedAt = performance.now();
  try {
    const { statusCode, body } = await d.request({ path: `/api/items/${n}/stock`, method: 'GET' });
    const answer = (await body.json()) as { inventory?: { instance?: string }; error?: string };
    calls.push({
      caller,
      startedAt,
      status: statusCode,
      instance: answer.inventory?.instance ?? `${answer.error}`,
    });
  } catch (error) {
    calls.push({ caller, startedAt, status: 0, instance: String(error) });
  }
}

/**
 * Runs `loops` sequential call loops through each of `clients` (one client per caller) until
 * `stop(sent)` says so, appending every call to `calls`; resolves when all loops have ended.
 */
export async function driveStockCalls(
  clients: readonly Dispatcher[],
  loops: number,
  stop: (sent: number) => boolean,
  calls: StockCall[],
): Promise<void> {
  await Promise.all(
    clients.map(async (d, caller) => {
      let sent = 0;
      const loop = async (): Promise<void> => {
        while (!stop(sent)) await callStock(d, caller, sent++, calls);
      };
      await Promise.all(Array.from({ length: loops }, loop));
    }),
  );
}

/** Calls per answering instance (failures as `<status> <error>`), of one caller or all, sorted. */
export function countBy(calls: readonly StockCall[], caller?: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const c of calls) {
    if (caller !== undefined && c.caller !== caller) continue;
    const key = c.status === 200 ? c.instance : `${c.status} ${c.instance}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/** `name=count name=count …` */
export const show = (counts: Map<string, number>): string =>
  [...counts].map(([k, n]) => `${k}=${n}`).join(' ');
