import type { Tracing } from '@readykit/tracing';
import type { KitComponent } from './kit-component.ts';

/**
 * Runs the rest of the request inside its trace, request id and deadline context. Placed after
 * health (probes carry no trace worth propagating) and before metrics, so exemplars can read
 * the trace id.
 */
export function tracingComponent(tracing: Tracing): KitComponent {
  return {
    name: 'tracing',
    handle: (req, res, next) => tracing.handle(req, res, next),
    close: () => tracing.close(),
  };
}
