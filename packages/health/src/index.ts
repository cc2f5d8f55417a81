export { type BackoffPolicy, backoffDelay } from './backoff.ts';
export { type CheckResult, type CheckStatus, reasonOf } from './check-result.ts';
export { type ErrorCode, ErrorCodes, ReadykitError } from './errors.ts';
export type { ShutdownEvent, ShutdownPhase, ShutdownResult } from './graceful-shutdown.ts';
export { type AttachOptions, createHealth, Health, type HealthEvents } from './health.ts';
export type { CheckFunction, CheckKind } from './health-check.ts';
export { LIFECYCLE_STATES, type LifecycleState, type StateChange, type StateListener } from './lifecycle.ts';
export {
  type CheckOptions,
  DEFAULT_CHECK_TIMEOUT,
  DEFAULT_DRAIN_TIMEOUT,
  DEFAULT_EVENT_LOOP_THRESHOLD,
  DEFAULT_EVENT_LOOP_WINDOW,
  DEFAULT_HOOK_TIMEOUT,
  DEFAULT_KUBERNETES_SHUTDOWN_DELAY,
  DEFAULT_LIVENESS_PATHS,
  DEFAULT_READINESS_PATHS,
  DEFAULT_SIGNALS,
  DEFAULT_TERMINATION_GRACE_PERIOD,
  type GateOptions,
  type HealthOptions,
  type HookOptions,
  type ShutdownHook,
  type ShutdownOptions,
} from './options.ts';
export { formatHealthJson, formatText } from './probe-format.ts';
export type { ProbeEntry, ProbeKind, ProbeReport } from './probe-report.ts';
export type { ReportOptions } from './probe-reporter.ts';
export type { ReadinessGate, WarmupTask } from './readiness-gate.ts';
