import type { IncomingMessage, Server, ServerResponse } from 'node:http';

type RequestListener = (this: Server, req: IncomingMessage, res: ServerResponse) => void;

/**
 * Puts `answer` in front of a server's request listeners: a request it answers (returns
 * true) never reaches them. Probes then skip the framework's router entirely, so they stay
 * cheap and are answered whatever middleware comes first. Listeners added after this call
 * are not wrapped and see every request.
 */
export function interceptRequests(
  server: Server,
  answer: (req: IncomingMessage, res: ServerResponse) => boolean,
): void {
  const downstream = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', function intercepted(this: Server, req: IncomingMessage, res: ServerResponse) {
    if (answer(req, res)) return;
    for (const listener of downstream) listener.call(this, req, res);
  });
}
