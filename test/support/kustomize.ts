import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';

/** A Kubernetes object as YAML gives it: plain data. */
export type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> } & Record<string, unknown>;
};

/** Renders a kustomization with `kubectl kustomize`; undefined when kubectl is not installed. */
export function renderWithKubectl(dir: string): KubeObject[] | undefined {
  const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (run.error !== undefined) {
    if ((run.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw run.error;
  }
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed:\n${run.stderr}`);
  return parseObjects(run.stdout, `kubectl kustomize ${dir}`);
}

/** Whether `kubectl` (with its built-in kustomize) is on this machine. */
export function hasKubectl(): boolean {
  return spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).error === undefined;
}

/** Every document of a YAML stream, refusing YAML errors and documents that are not objects. */
export function parseObjects(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== 'object' || Array.isArray(value))
      throw new Error(`${source}: a document is not an object`);
    const o = value as KubeObject;
    if (
      typeof o.apiVersion !== 'string' ||
      typeof o.kind !== 'string' ||
      typeof o.metadata?.name !== 'string'
    ) {
      throw new Error(`${source}: a document lacks apiVersion, kind or metadata.name`);
    }
    objects.push(o);
  }
  return objects;
}

// Kinds without a namespace that these renderings may meet; everything else gets one.
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'PersistentVolume',
  'StorageClass',
  'PriorityClass',
  'APIService',
]);

const KUSTOMIZATION_KEYS = ['apiVersion', 'kind', 'namespace', 'labels', 'resources', 'patches'];

/**
 * A small kustomize for machines without kubectl: `resources` (files and directories),
 * `patches` (JSON 6902, targeted by kind and name, inline or from a file), `namespace` (RoleBinding
 * subjects included, as kustomize does) and `labels` (metadata only). Anything else in a
 * kustomization is refused, so a manifest can never use a feature this renderer would
 * silently skip. Where kubectl exists, the tests check this output equals kubectl's.
 */
export function renderKustomization(dir: string): KubeObject[] {
  const root = resolve(dir);
  const k = parse(readFileSync(join(root, 'kustomization.yaml'), 'utf8')) as Record<string, unknown>;
  for (const key of Object.keys(k)) {
    if (!KUSTOMIZATION_KEYS.includes(key)) {
      throw new Error(`${root}/kustomization.yaml: "${key}" is not supported by the test renderer`);
    }
  }
  let objects: KubeObject[] = [];
  for (const entry of (k.resources as string[] | undefined) ?? []) {
    const path = join(root, entry);
    objects.push(
      ...(statSync(path).isDirectory()
        ? renderKustomization(path)
        : parseObjects(readFileSync(path, 'utf8'), path)),
    );
  }
  objects = structuredClone(objects);
  assertUnique(objects, root);
  // kustomize's order: patches, then namespace, then labels.
  for (const patch of (k.patches as PatchEntry[] | undefined) ?? []) applyPatchEntry(objects, patch, root);
  if (typeof k.namespace === 'string') {
    // RoleBinding subjects follow the ServiceAccounts of this build: by name, when their
    // namespace is unset, "default" or the account's own (what kustomize does).
    const accounts = new Map(
      objects.filter((o) => o.kind === 'ServiceAccount').map((o) => [o.metadata.name, o.metadata.namespace]),
    );
    for (const o of objects) setNamespace(o, k.namespace, accounts);
  }
  for (const labels of (k.labels as LabelsEntry[] | undefined) ?? []) addLabels(objects, labels, root);
  return objects;
}

interface PatchEntry {
  target?: { kind?: string; name?: string } & Record<string, unknown>;
  patch?: string;
  path?: string;
}

interface LabelsEntry {
  pairs: Record<string, string>;
  includeSelectors?: boolean;
  includeTemplates?: boolean;
}

function applyPatchEntry(objects: KubeObject[], entry: PatchEntry, root: string): void {
  const target = entry.target ?? {};
  for (const key of Object.keys(target)) {
    if (key !== 'kind' && key !== 'name') throw new Error(`${root}: patch target "${key}" is not supported`);
  }
  const text =
    entry.patch ?? (entry.path === undefined ? undefined : readFileSync(join(root, entry.path), 'utf8'));
  if (text === undefined) throw new Error(`${root}: a patch needs "patch" or "path"`);
  const operations: unknown = parse(text);
  if (!Array.isArray(operations)) {
    throw new Error(
      `${root}: only JSON 6902 patches (a list of operations) are supported by the test renderer`,
    );
  }
  const matched = objects.filter(
    (o) =>
      (target.kind === undefined || o.kind === target.kind) &&
      (target.name === undefined || o.metadata.name === target.name),
  );
  if (matched.length === 0)
    throw new Error(`${root}: patch target ${JSON.stringify(target)} matches nothing`);
  for (const o of matched) {
    const patched = applyJsonPatch(o, operations as JsonPatchOperation[]);
    for (const key of Object.keys(o)) delete o[key];
    Object.assign(o, patched);
  }
}

function setNamespace(
  o: KubeObject,
  namespace: string,
  accounts: ReadonlyMap<string, string | undefined>,
): void {
  if (CLUSTER_SCOPED.has(o.kind)) return;
  o.metadata.namespace = namespace;
  if (o.kind !== 'RoleBinding' && o.kind !== 'ClusterRoleBinding') return;
  for (const subject of (o.subjects as Array<{ kind?: string; name?: string; namespace?: string }>) ?? []) {
    if (subject.kind !== 'ServiceAccount')
      throw new Error(`${objectId(o)}: ${subject.kind} subjects are not supported`);
    if (!accounts.has(subject.name ?? '')) continue;
    const own = subject.namespace;
    if (own === undefined || own === 'default' || own === accounts.get(subject.name!))
      subject.namespace = namespace;
  }
}

function addLabels(objects: KubeObject[], entry: LabelsEntry, root: string): void {
  if (entry.includeSelectors === true || entry.includeTemplates === true) {
    throw new Error(`${root}: labels with includeSelectors or includeTemplates are not supported`);
  }
  for (const o of objects) o.metadata.labels = { ...o.metadata.labels, ...entry.pairs };
}

function assertUnique(objects: readonly KubeObject[], root: string): void {
  const seen = new Set<string>();
  for (const o of objects) {
    const id = objectId(o);
    if (seen.has(id)) throw new Error(`${root}: ${id} is listed twice`);
    seen.add(id);
  }
}

/** `apiVersion kind namespace/name`: what identifies an object in a rendering. */
export function objectId(o: KubeObject): string {
  return `${o.apiVersion} ${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** The two renderings hold the same objects, whatever their order; the first difference otherwise. */
export function renderingDifference(a: readonly KubeObject[], b: readonly KubeObject[]): string | undefined {
  const byId = new Map(b.map((o) => [objectId(o), o]));
  for (const o of a) {
    const other = byId.get(objectId(o));
    if (other === undefined) return `${objectId(o)} is missing from the second rendering`;
    if (!isDeepStrictEqual(o, other)) {
      return `${objectId(o)} differs:\n${JSON.stringify(o, null, 1)}\n---\n${JSON.stringify(other, null, 1)}`;
    }
    byId.delete(objectId(o));
  }
  const extra = [...byId.keys()];
  return extra.length === 0 ? undefined : `only in the second rendering: ${extra.join(', ')}`;
}

export interface JsonPatchOperation {
  op: 'add' | 'remove' | 'replace' | 'test';
  path: string;
  value?: unknown;
}

/** RFC 6902 add, remove, replace and test on a copy of `document`. */
export function applyJsonPatch<T>(document: T, operations: readonly JsonPatchOperation[]): T {
  const result = structuredClone(document) as unknown;
  for (const operation of operations) {
    const tokens = pointerTokens(operation.path);
    if (tokens.length === 0)
      throw new Error(`JSON patch: ${operation.op} on the whole document is not supported`);
    const parent = walk(result, tokens.slice(0, -1), operation.path);
    const last = tokens[tokens.length - 1]!;
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : arrayIndex(last, operation.path);
      const exists = index < parent.length;
      switch (operation.op) {
        case 'add':
          if (index > parent.length) throw new Error(`JSON patch: ${operation.path} is past the end`);
          parent.splice(index, 0, structuredClone(operation.value));
          break;
        case 'remove':
        case 'replace':
          if (!exists) throw new Error(`JSON patch: ${operation.path} does not exist`);
          if (operation.op === 'remove') parent.splice(index, 1);
          else parent[index] = structuredClone(operation.value);
          break;
        case 'test':
          if (!isDeepStrictEqual(parent[index], operation.value))
            throw new Error(`JSON patch: test ${operation.path} failed`);
          break;
        default:
          throw new Error(
            `JSON patch: op ${JSON.stringify((operation as { op: unknown }).op)} is not supported`,
          );
      }
    } else {
      const object = parent as Record<string, unknown>;
      const exists = Object.hasOwn(object, last);
      switch (operation.op) {
        case 'add':
          object[last] = structuredClone(operation.value);
          break;
        case 'remove':
        case 'replace':
          if (!exists) throw new Error(`JSON patch: ${operation.path} does not exist`);
          if (operation.op === 'remove') delete object[last];
          else object[last] = structuredClone(operation.value);
          break;
        case 'test':
          if (!isDeepStrictEqual(object[last], operation.value))
            throw new Error(`JSON patch: test ${operation.path} failed`);
          break;
        default:
          throw new Error(
            `JSON patch: op ${JSON.stringify((operation as { op: unknown }).op)} is not supported`,
          );
      }
    }
  }
  return result as T;
}

function pointerTokens(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`JSON patch: path ${JSON.stringify(path)} must start with "/"`);
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, path: string): number {
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`JSON patch: ${path}: "${token}" is not an array index`);
  return Number(token);
}

function walk(document: unknown, tokens: readonly string[], path: string): unknown {
  let node = document;
  for (const token of tokens) {
    if (Array.isArray(node)) node = node[arrayIndex(token, path)];
    else if (node !== null && typeof node === 'object' && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else node = undefined;
    if (node === null || typeof node !== 'object') throw new Error(`JSON patch: ${path} does not exist`);
  }
  if (node === null || typeof node !== 'object') throw new Error(`JSON patch: ${path} does not exist`);
  return node;
}
