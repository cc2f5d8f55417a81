import { setImmediate } from 'node:timers/promises';
import { type Dispatcher, request } from 'undici';

/** A closed-loop load whose concurrency changes while it runs. */
export interface ConcurrencyLoad {
  /** Requests in flight the load keeps (each worker sends its next request when its last one answers). */
  readonly concurrency: number;
  /** Responses so far, any status. */
  readonly completed: number;
  setConcurrency(workers: number): void;
  /** Stops sending, waits for the requests in flight, and reports. */
  stop(): Promise<{ completed: number; failed: number; failures: string[] }>;
}

/**
 * `concurrency` workers, each sending GET `url(n)` and the next one as soon as the answer is
 * in. With a backend that answers after a fixed latency, requests in flight follow the
 * concurrency rather than the CPU. Lowering it lets surplus workers finish their request and stop.
 */
export function startConcurrencyLoad(options: {
  url: (n: number) => string;
  dispatcher: Dispatcher;
  maxConcurrency?: number;
}): ConcurrencyLoad {
  const max = options.maxConcurrency ?? 256;
  let target = 0;
  let stopped = false;
  let completed = 0;
  let failed = 0;
  let n = 0;
  const failures: string[] = [];
  const workers = new Map<number, Promise<void>>();
  const worker = async (id: number): Promise<void> => {
    while (!stopped && id < target) {
      const url = options.url(n++);
      try {
        const res = await request(url, { dispatcher: options.dispatcher });
        await res.body.text();
        if (res.statusCode !== 200) {
          failed++;
          if (failures.length < 20) failures.push(`${url}: ${res.statusCode}`);
        }
      } catch (error) {
        failed++;
        if (failures.length < 20) failures.push(`${url}: ${String(error)}`);
        await setImmediate(); // a run of instant failures must not starve the event loop
      }
      completed++;
    }
    workers.delete(id);
  };
  const load: ConcurrencyLoad = {
    get concurrency() {
      return target;
    },
    get completed() {
      return completed;
    },
    setConcurrency(count) {
      if (!Number.isInteger(count) || count < 0 || count > max)
        throw new Error(`concurrency ${count} out of 0..${max}`);
      target = count;
      for (let id = 0; id < target; id++) if (!workers.has(id)) workers.set(id, worker(id));
    },
    async stop() {
      stopped = true;
      await Promise.all(workers.values());
      return { completed, failed, failures };
    },
  };
  return load;
}
