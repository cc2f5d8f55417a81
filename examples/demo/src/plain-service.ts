/**
 * The control: the example service's routes as many services are written today, with plain
 * Express and no readykit. It listens at once and answers 500 until its (simulated) pool has
 * connected, its health endpoint says 200 whenever the process is up, and SIGTERM kills it
 * where it stands (Node's default), requests in flight included.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import express from 'express';

// The same variables as the example service's, read the same way the demo sets them.
const env: Readonly<Record<string, string | undefined>> = process.env;
const port = Number(env.PORT ?? 3000);
const host = env.HOST ?? '127.0.0.1';
const warmupMs = Number(env.WARMUP_MS ?? 2000);
if (!Number.isInteger(port) || port < 0 || port > 65_535 || !Number.isInteger(warmupMs) || warmupMs < 0) {
  console.error('plain service: PORT and WARMUP_MS must be whole numbers');
  process.exit(2);
}

let connected = false;
void sleep(warmupMs).then(() => {
  connected = true;
});
let extraMs = 0;
// The same runtime control as the example service's TOGGLE_LATENCY_MS, so both run one scenario.
const toggleMs = Number(env.TOGGLE_LATENCY_MS ?? 0);
process.on('SIGUSR2', () => {
  extraMs = extraMs === 0 ? toggleMs : 0;
});

const app = express();
app.get('/readyz', (_req, res) => {
  res.send('ok');
});
app.get('/api/items/:id', async (req, res) => {
  if (extraMs > 0) await sleep(extraMs);
  if (!connected) {
    res.status(500).json({ error: 'pool not connected' });
    return;
  }
  res.json({ id: req.params.id, name: `item ${req.params.id}` });
});
const server = app.listen(port, host, () => {
  const address = server.address();
  const actual = typeof address === 'object' && address !== null ? address.port : port;
  console.log(`[plain ${process.pid}] listening on http://${host}:${actual} (warmup ${warmupMs} ms)`);
});
