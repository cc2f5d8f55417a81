import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type KubeObject, renderKustomization, renderWithKubectl } from './kustomize.ts';

/** examples/kubernetes, the manifests users copy. */
export const EXAMPLES_DIR = fileURLToPath(new URL('../../examples/kubernetes/', import.meta.url));

/** Every kustomization under examples/kubernetes. */
export const OVERLAYS = ['base', 'hpa', 'keda', 'keda/via-balancer', 'balancer'] as const;
export type Overlay = (typeof OVERLAYS)[number];

export interface Rendering {
  readonly objects: KubeObject[];
  readonly renderer: 'kubectl kustomize' | 'test renderer';
}

const renderings = new Map<Overlay, Rendering>();

/** An overlay rendered by `kubectl kustomize` where kubectl exists, else by the tests' renderer. */
export function renderExample(overlay: Overlay): Rendering {
  let rendering = renderings.get(overlay);
  if (rendering === undefined) {
    const dir = join(EXAMPLES_DIR, overlay);
    const byKubectl = renderWithKubectl(dir);
    rendering =
      byKubectl === undefined
        ? { objects: renderKustomization(dir), renderer: 'test renderer' }
        : { objects: byKubectl, renderer: 'kubectl kustomize' };
    renderings.set(overlay, rendering);
  }
  return rendering;
}

/** The one object of `kind` named `name`; throws naming what is there otherwise. */
export function find<T = KubeObject>(objects: readonly KubeObject[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) {
    const listed = objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ');
    throw new Error(`expected one ${kind}/${name}, found ${found.length} among ${listed}`);
  }
  return found[0] as T;
}

// The shapes the cross-checks read, as far as they read them.
export interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  successThreshold?: number;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string };
  };
}

export interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  lifecycle?: { preStop?: { sleep?: { seconds: number }; exec?: unknown; httpGet?: unknown } };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

export interface Deployment extends KubeObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: {
      metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
      spec: {
        containers: Container[];
        terminationGracePeriodSeconds?: number;
        serviceAccountName?: string;
      };
    };
  };
}

export interface ScaledObject extends KubeObject {
  spec: {
    scaleTargetRef: { name: string; kind?: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    fallback?: { failureThreshold: number; replicas: number; behavior?: string };
    advanced?: { horizontalPodAutoscalerConfig?: { behavior?: unknown } };
    triggers: Array<{ type: string; name?: string; metricType?: string; metadata: Record<string, unknown> }>;
  };
}

/**
 * A container's environment as the kubelet would give it, for what the cross-checks need:
 * literal values, `metadata.namespace` from the downward API, and a stand-in for Secret
 * references (`secret:name/key`).
 */
export function containerEnv(container: Container, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const v of container.env ?? []) {
    if (v.value !== undefined) env[v.name] = v.value;
    else if (v.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') env[v.name] = namespace;
    else if (v.valueFrom?.secretKeyRef !== undefined) {
      env[v.name] = `secret:${v.valueFrom.secretKeyRef.name}/${v.valueFrom.secretKeyRef.key}`;
    } else throw new Error(`env ${v.name}: source not understood by the tests`);
  }
  return env;
}

/** `$(VAR)` in args, expanded from the container's environment as the kubelet does. */
export function expandArgs(args: readonly string[], env: Readonly<Record<string, string>>): string[] {
  return args.map((a) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (whole, name: string) => env[name] ?? whole),
  );
}

/** A prometheus-adapter rule of hpa/prometheus-adapter-values.yaml. */
export interface AdapterRule {
  seriesQuery: string;
  resources: { overrides: Record<string, { resource: string }> };
  name: { matches: string; as: string };
  metricsQuery: string;
}

export function adapterValuesText(): string {
  return readFileSync(join(EXAMPLES_DIR, 'hpa/prometheus-adapter-values.yaml'), 'utf8');
}

export function adapterRules(): AdapterRule[] {
  const values = parse(adapterValuesText()) as { rules: { default: boolean; custom: AdapterRule[] } };
  return values.rules.custom;
}

/** Every Prometheus trigger of the ScaledObjects in the KEDA overlays, with where it comes from. */
export function kedaTriggers(): Array<{
  overlay: Overlay;
  scaledObject: ScaledObject;
  trigger: ScaledObject['spec']['triggers'][number];
}> {
  const found = [];
  for (const overlay of ['keda', 'keda/via-balancer'] as const) {
    for (const o of renderExample(overlay).objects) {
      if (o.kind !== 'ScaledObject') continue;
      const scaledObject = o as ScaledObject;
      for (const trigger of scaledObject.spec.triggers) found.push({ overlay, scaledObject, trigger });
    }
  }
  return found;
}
