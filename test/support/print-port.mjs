// Preloaded (--import) into a README example under test: reports the port of every server
// that starts listening, so the example's own code runs unchanged apart from its port.
import { subscribe } from 'node:diagnostics_channel';

subscribe('tracing:net.server.listen:asyncEnd', ({ server }) => {
  const address = server?.address?.();
  if (address && typeof address === 'object') process.stdout.write(`READYKIT_TEST_PORT=${address.port}\n`);
});
