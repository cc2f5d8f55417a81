export type { B3Context } from './b3.ts';
export { RequestAbortedError, type TracingErrorCode, TracingErrorCodes } from './errors.ts';
export { HopPropagation } from './hop-propagation.ts';
export {
  type CorrelatedConsole,
  correlatedConsole,
  type LogFields,
  logFields,
  logFieldsOf,
} from './log-fields.ts';
export { downstreamBudget, outgoingHeaders } from './outgoing-headers.ts';
export type { PropagatorName } from './propagator-names.ts';
export { getRequestContext, RequestContext, requestContextOf } from './request-context.ts';
export { Tracing } from './tracing.ts';
export type { DeadlineOptions, TracingOptions } from './tracing-options.ts';

import { Tracing } from './tracing.ts';
import type { TracingOptions } from './tracing-options.ts';

/** `new Tracing(options)`: see the README for every option. */
export function createTracing(options?: TracingOptions): Tracing {
  return new Tracing(options);
}
export { activeTracingSdk, type TracingSdkHandle } from './sdk-handle.ts';
