import { createServiceApp } from './app.ts';
import { ConfigError, readConfig } from './config.ts';

const log = (line: string): void => console.log(`[service ${process.pid}] ${line}`);

let config: ReturnType<typeof readConfig>;
try {
  config = readConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`example service: ${error.message}`);
  process.exit(2);
}

const { app, latency } = createServiceApp(config, log);
// Off unless TOGGLE_LATENCY_MS is set: a demo degrades a running instance and recovers it without a restart.
const toggleMs = config.toggleLatencyMs;
if (toggleMs !== undefined) {
  process.on('SIGUSR2', () => {
    latency.extraMs = latency.extraMs === 0 ? toggleMs : 0;
    log(`SIGUSR2: extra latency now ${latency.extraMs} ms`);
  });
}
const onListening = (error?: Error): void => {
  if (error) {
    console.error(`example service: cannot listen on port ${config.port}: ${error.message}`);
    process.exit(1);
  }
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  log(`listening on http://${config.host ?? 'localhost'}:${port} (warmup ${config.warmupMs} ms)`);
};
// Without HOST, Node's default: every interface, IPv6 and IPv4 where the machine has both.
const server =
  config.host === undefined
    ? app.listen(config.port, onListening)
    : app.listen(config.port, config.host, onListening);
