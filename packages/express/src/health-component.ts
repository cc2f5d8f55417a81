import type { Health } from '@readykit/health';
import type { KitComponent } from './kit-component.ts';

/** Serves the probe paths and tracks every request for draining. */
export function healthComponent(health: Health): KitComponent {
  return {
    name: 'health',
    handle: (req, res, next) => {
      if (!health.handle(req, res)) next();
    },
    attach: (server) => {
      health.attach(server);
    },
    close: () => health.close(),
  };
}
