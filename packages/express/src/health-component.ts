import type { Server } from 'node:http';
import type { Health } from '@readykit/health';
import type { KitComponent } from './kit-component.ts';

/**
 * Serves the probe paths and tracks every request for draining. Once attached, probes are
 * answered in front of the app, before Express's router; the middleware still answers them
 * on a server it could not attach to in time.
 */
export function healthComponent(health: Health): KitComponent {
  return {
    name: 'health',
    handle: (req, res, next) => {
      // On a server the kit attached to, probes were answered before Express saw the request.
      const server = (req.socket as { server?: Server } | null)?.server;
      if ((server !== undefined && health.answersProbesOn(server)) || !health.handle(req, res)) next();
    },
    attach: (server) => {
      health.attach(server, { probes: true });
    },
    close: () => health.close(),
  };
}
