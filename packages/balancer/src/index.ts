export { AdminApi } from './admin/admin-api.ts';
export { type BackendReport, type BackendsReport, backendsReport } from './admin/backends-report.ts';
export type { MetricsSource, SourceMetrics } from './admin/balancer-metrics.ts';
export { BalancerMetrics } from './admin/balancer-metrics.ts';
export { AttemptLoop } from './attempt-loop.ts';
export { Backend, type BackendStats, type DrainSource } from './backend.ts';
export { BackendSet } from './backend-set.ts';
export {
  ALGORITHM_NAMES,
  type AlgorithmName,
  type Balance,
  type Candidate,
  type PickInput,
} from './balance/candidate.ts';
export { createBalance } from './balance/create-balance.ts';
export {
  Balancer,
  type BalancerAddresses,
  type BalancerRuntime,
  createBalancer,
  type ReconfigureResult,
} from './balancer.ts';
export { ConfigWatcher, type ConfigWatcherOptions } from './cli/config-watcher.ts';
export { BalancedCall } from './client/balanced-call.ts';
export { BalancedDispatcher, createBalancedDispatcher } from './client/balanced-dispatcher.ts';
export type { BalancedDispatcherOptions } from './client/dispatcher-options.ts';
export { Cluster } from './cluster.ts';
export { createDiscovery } from './discover/create-discovery.ts';
export type { Discovery } from './discover/discovery.ts';
export { type AddressRecords, DnsDiscovery, type DnsDiscoveryOptions } from './discover/dns-discovery.ts';
export { StaticDiscovery } from './discover/static-discovery.ts';
export { BalancerError, type BalancerErrorCode, BalancerErrorCodes } from './errors.ts';
export { BACKEND_STATES, type BackendState } from './health/backend-state.ts';
export { isHttpOrigin } from './http-origin.ts';
export { PeakEwma } from './load/peak-ewma.ts';
export { ReportedLoad } from './load/reported-load.ts';
export { OPTION_TABLE, type OptionSpec } from './option-table.ts';
export {
  type Address,
  type BackendSpec,
  type BalancerConfig,
  type BalancerOptions,
  resolveBalancerConfig,
} from './options.ts';
