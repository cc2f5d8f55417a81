/**
 * The service under test, one process per scenario: an Express app with `readykit()` (or,
 * for the harness floor, a bare `node:http` server answering 200) on 127.0.0.1, port 0. Spawned by probe-latency.ts with a JSON {@link ServerPlan} as its only
 * argument. Writes `port <n>` once listening, then `check <status> <ms>` after every
 * readiness check run so the parent can count runs. Exits on SIGTERM/SIGINT (readykit
 * handles no signals here) and when its stdin closes, so it never outlives the bench.
 */
import { createServer, type RequestListener } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { readykit } from '@readykit/express';
import express from 'express';

export interface ServerPlan {
  /** No Express and no readykit: every request gets `200 ok`. */
  readonly bare?: boolean;
  /** The one readiness check; none when absent. */
  readonly check?: {
    /** How long the check takes; it honours the abort signal. */
    readonly sleepMs: number;
    readonly interval: number;
    readonly timeout: number;
  };
}

const plan = JSON.parse(process.argv[2] ?? '{}') as ServerPlan;

/** The readykit app: probes on /readyz, readiness check runs reported on stdout. */
function readykitApp(check: ServerPlan['check']): RequestListener {
  const kit = readykit({
    shutdown: { signals: [], exit: false },
    readiness:
      check === undefined
        ? {}
        : {
            dependency: {
              check: (signal) => sleep(check.sleepMs, undefined, { signal }),
              interval: check.interval,
              timeout: check.timeout,
            },
          },
  });
  kit.health.on('check', (_name, kind, result) => {
    if (kind === 'readiness')
      process.stdout.write(`check ${result.status} ${result.durationMs.toFixed(1)}\n`);
  });
  const app = express();
  app.disable('x-powered-by');
  app.use(kit);
  return app;
}

const bare: RequestListener = (_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': 3 });
  res.end('ok\n');
};

// What app.listen() does; readykit's discovery finds this server the same way.
const server = createServer(plan.bare === true ? bare : readykitApp(plan.check));
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`port ${address.port}\n`);
});
server.on('error', (error) => {
  console.error(`probe-server: ${error.message}`);
  process.exit(1);
});

// The parent holds our stdin open; when it goes away, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
