export * from '@readykit/health';
export {
  correlatedConsole,
  getRequestContext,
  logFields,
  outgoingHeaders,
  RequestAbortedError,
  RequestContext,
  requestContextOf,
  Tracing,
  TracingErrorCodes,
  type TracingOptions,
} from '@readykit/tracing';
export { healthComponent } from './health-component.ts';
export { composeSteps, type KitComponent, type RequestStep } from './kit-component.ts';
export { type ManagementOptions, managementComponent } from './management-component.ts';
export { metricsComponent } from './metrics-component.ts';
export { type Readykit, type ReadykitOptions, readykit } from './readykit.ts';
export { captureRouteRoot, routeTemplate } from './route-template.ts';
export { tracingComponent } from './tracing-component.ts';
