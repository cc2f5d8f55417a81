import type { FakeEndpoint, FakeSlice } from './fake-kube-api.ts';
import type { TestBackend } from './test-backend.ts';

export type EndpointConditions = NonNullable<FakeEndpoint['conditions']>;

export const ENDPOINT_READY: EndpointConditions = { ready: true, serving: true, terminating: false };

/**
 * One slice per loopback backend of the `api` service: the backends share 127.0.0.1 and differ
 * by port, and a slice's ports apply to all its endpoints (the controller splits pods whose
 * named port maps to different numbers into different slices the same way).
 */
export function loopbackSlice(name: string, backend: TestBackend, conditions: EndpointConditions): FakeSlice {
  return {
    name: `api-${name}`,
    service: 'api',
    endpoints: [{ addresses: ['127.0.0.1'], conditions, pod: `api-${name}` }],
    ports: [{ name: 'http', port: Number(new URL(backend.url).port), protocol: 'TCP' }],
  };
}
