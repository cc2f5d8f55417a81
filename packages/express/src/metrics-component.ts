import type { Metrics } from '@readykit/metrics';
import type { KitComponent } from './kit-component.ts';
import { captureRouteRoot } from './route-template.ts';

/**
 * Serves `/metrics` and records every other request that reaches the app; the route label
 * comes from Express's route templates (see route-template.ts). Probes never get here: they
 * are answered before the app, so they do not count as traffic.
 */
export function metricsComponent(metrics: Metrics, options: { serve?: boolean } = {}): KitComponent {
  // With a management listener, /metrics is served there and is an ordinary path here.
  const serve = options.serve !== false;
  return {
    name: 'metrics',
    handle: (req, res, next) => {
      if (serve && metrics.handle(req, res)) return;
      captureRouteRoot(req);
      metrics.track(req, res);
      next();
    },
    close: () => metrics.close(),
  };
}
