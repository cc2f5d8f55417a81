// `@readykit/balancer/kubernetes`: a subpath of its own, so that importing the balancer does not
// load @kubernetes/client-node (about half a second) unless EndpointSlice discovery is used.
export { EndpointSliceDiscovery } from './discover/endpoint-slice-discovery.ts';
export type { EndpointSliceDiscoveryOptions } from './discover/endpoint-slice-options.ts';
