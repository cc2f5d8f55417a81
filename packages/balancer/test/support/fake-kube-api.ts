import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One endpoint of a slice as a test writes it; absent conditions are nil, as in the API. */
export interface FakeEndpoint {
  readonly addresses: readonly string[];
  readonly conditions?: {
    readonly ready?: boolean;
    readonly serving?: boolean;
    readonly terminating?: boolean;
  };
  readonly nodeName?: string;
  readonly zone?: string;
  /** Pod name for `targetRef`. @default derived from the address */
  readonly pod?: string;
}

/** One slice as a test writes it; the fake adds the metadata the API server would. */
export interface FakeSlice {
  readonly name: string;
  readonly service: string;
  /** @default "default" */
  readonly namespace?: string;
  /** @default "IPv4" */
  readonly addressType?: 'IPv4' | 'IPv6' | 'FQDN';
  readonly endpoints: readonly FakeEndpoint[];
  readonly ports: ReadonlyArray<{
    readonly name?: string;
    readonly port: number;
    readonly protocol?: string;
  }>;
}

/** A request the fake answered, for assertions on resumption and relists. */
export interface KubeRequest {
  readonly verb: 'list' | 'watch' | 'other';
  readonly path: string;
  readonly namespace: string | undefined;
  readonly labelSelector: string | undefined;
  /** As sent: `undefined` when absent. */
  readonly resourceVersion: string | undefined;
  readonly allowWatchBookmarks: boolean;
  readonly authorization: string | undefined;
  /** performance.now() when it arrived. */
  readonly at: number;
  /** The status the fake answered with. */
  status: number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

interface StoredEvent {
  readonly rv: number;
  readonly type: EventType;
  readonly object: Record<string, unknown>;
}

interface OpenWatch {
  readonly namespace: string;
  readonly selector: ReadonlyMap<string, string>;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
}

const COLLECTION = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([a-z0-9-]{1,63})\/endpointslices$/;
const TOKEN = 'fake-kube-api-token';
const STATUS_REASONS: Record<number, string> = {
  403: 'Forbidden',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

/**
 * A stand-in for a Kubernetes API server's EndpointSlice collection that answers list and watch
 * with the bytes a real one sends: list items without kind/apiVersion, watch events as
 * newline-delimited JSON over a chunked 200, bookmarks carrying only a resourceVersion, 410
 * Expired for a resourceVersion older than its history (as an ERROR event or an HTTP 410) and
 * `Status` bodies on errors. It keeps an event history so a watch resumed from a resourceVersion
 * gets exactly the events after it, and records every request.
 */
export class FakeKubeApi {
  readonly requests: KubeRequest[] = [];
  /** How a watch from a resourceVersion older than the history is refused. */
  expiredAs: 'event' | 'http' = 'event';
  #server: Server;
  #port = 0;
  #rv = 100;
  // Watches from a resourceVersion below this get 410 (etcd compaction / watch cache window).
  #oldest = 100;
  readonly #slices = new Map<string, Record<string, unknown>>();
  readonly #history: StoredEvent[] = [];
  readonly #watches = new Set<OpenWatch>();
  readonly #failures: Array<{ verb: 'list' | 'watch'; status: number; message: string }> = [];

  private constructor() {
    this.#server = this.#createServer();
  }

  static async start(): Promise<FakeKubeApi> {
    const api = new FakeKubeApi();
    await api.#listen(0);
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  /** The latest resourceVersion, as the server would report it. */
  get resourceVersion(): string {
    return String(this.#rv);
  }

  get openWatches(): number {
    return this.#watches.size;
  }

  /** Requests of one verb, in order. */
  requestsOf(verb: 'list' | 'watch'): KubeRequest[] {
    return this.requests.filter((r) => r.verb === verb);
  }

  /** A kubeconfig pointing at this server with a bearer token, as `kubectl config view --raw` writes it. */
  kubeconfigYaml(namespace?: string): string {
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      // client-node refuses plain http unless TLS verification is explicitly off.
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: tester',
      '  user:',
      `    token: ${TOKEN}`,
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: tester',
      ...(namespace === undefined ? [] : [`    namespace: ${namespace}`]),
      'current-context: fake',
      '',
    ].join('\n');
  }

  /** Creates or updates a slice: ADDED or MODIFIED to the watches that select it. */
  apply(slice: FakeSlice): void {
    const namespace = slice.namespace ?? 'default';
    const key = `${namespace}/${slice.name}`;
    const previous = this.#slices.get(key);
    const rv = ++this.#rv;
    const object = sliceObject(slice, namespace, rv, previous);
    this.#slices.set(key, object);
    this.#publish({ rv, type: previous === undefined ? 'ADDED' : 'MODIFIED', object });
  }

  /** Deletes a slice: DELETED (the last state, at the deletion's resourceVersion). */
  delete(name: string, namespace = 'default'): void {
    const key = `${namespace}/${name}`;
    const previous = this.#slices.get(key);
    if (previous === undefined) throw new Error(`no slice ${key}`);
    this.#slices.delete(key);
    const rv = ++this.#rv;
    const metadata = { ...(previous.metadata as Record<string, unknown>), resourceVersion: String(rv) };
    this.#publish({ rv, type: 'DELETED', object: { ...previous, metadata } });
  }

  /** Something else in the cluster changed: the resourceVersion moves on without an event here. */
  advance(by = 1): void {
    this.#rv += by;
  }

  /** Sends a BOOKMARK at the current resourceVersion to every watch that allowed bookmarks. */
  bookmark(): void {
    const line = `${JSON.stringify({
      type: 'BOOKMARK',
      object: {
        kind: 'EndpointSlice',
        apiVersion: 'discovery.k8s.io/v1',
        metadata: { resourceVersion: String(this.#rv), creationTimestamp: null },
        addressType: '',
        endpoints: null,
      },
    })}\n`;
    for (const watch of this.#watches) if (watch.bookmarks) watch.res.write(line);
  }

  /** Forgets the event history (compaction): a watch from an older resourceVersion gets 410. */
  compact(): void {
    this.#oldest = this.#rv;
    this.#history.length = 0;
  }

  /** Ends every open watch normally, as the server does when a watch's timeout passes. */
  endWatches(): void {
    for (const watch of this.#watches) watch.res.end();
    this.#watches.clear();
  }

  /** Sends ERROR 410 Expired on every open watch and ends it, as the watch cache does when it falls behind. */
  expireWatches(): void {
    for (const watch of this.#watches) {
      watch.res.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus(this.#oldest, this.#rv) })}\n`);
    }
    this.#watches.clear();
  }

  /** The next `count` requests of `verb` fail with `status` and a `Status` body carrying `message`. */
  failNext(verb: 'list' | 'watch', status: number, count = 1, message = 'injected failure'): void {
    for (let i = 0; i < count; i++) this.#failures.push({ verb, status, message });
  }

  /** Stops listening and drops every connection (clients then see resets or refusals); state is kept. */
  async stop(): Promise<void> {
    this.#watches.clear();
    await new Promise<void>((resolve) => {
      this.#server.closeAllConnections();
      this.#server.close(() => resolve());
    });
  }

  /** Listens again on the same port with the same state. */
  async resume(): Promise<void> {
    this.#server = this.#createServer();
    await this.#listen(this.#port);
  }

  async close(): Promise<void> {
    if (this.#server.listening) await this.stop();
  }

  #createServer(): Server {
    return createServer((req, res) => this.#answer(req, res));
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  #answer(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const match = COLLECTION.exec(url.pathname);
    const watching = ['1', 'true'].includes(url.searchParams.get('watch') ?? '');
    const request: KubeRequest = {
      verb: match === null || req.method !== 'GET' ? 'other' : watching ? 'watch' : 'list',
      path: url.pathname,
      namespace: match?.[1],
      labelSelector: url.searchParams.get('labelSelector') ?? undefined,
      resourceVersion: url.searchParams.get('resourceVersion') ?? undefined,
      allowWatchBookmarks: url.searchParams.get('allowWatchBookmarks') === 'true',
      authorization: req.headers.authorization,
      at: performance.now(),
      status: 200,
    };
    this.requests.push(request);
    const fail = (status: number, reason: string, message: string) => {
      request.status = status;
      sendStatus(res, status, reason, message);
    };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      fail(401, 'Unauthorized', 'Unauthorized');
      return;
    }
    if (request.verb === 'other' || match === null) {
      fail(404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    const failure = this.#failures.findIndex((f) => f.verb === request.verb);
    if (failure !== -1) {
      const { status, message } = this.#failures.splice(failure, 1)[0]!;
      fail(status, STATUS_REASONS[status] ?? 'InternalError', message);
      return;
    }
    const selector = parseSelector(request.labelSelector);
    if (selector === undefined) {
      fail(400, 'BadRequest', `unable to parse requirement: ${request.labelSelector}`);
      return;
    }
    const namespace = match[1]!;
    if (request.verb === 'list') {
      const items = [...this.#slices.values()]
        .filter((s) => selects(s, namespace, selector))
        .map(({ kind: _kind, apiVersion: _apiVersion, ...item }) => item);
      res.setHeader('content-type', 'application/json');
      res.end(
        JSON.stringify({
          kind: 'EndpointSliceList',
          apiVersion: 'discovery.k8s.io/v1',
          metadata: { resourceVersion: String(this.#rv) },
          items,
        }),
      );
      return;
    }
    const from = request.resourceVersion === undefined ? 0 : Number(request.resourceVersion);
    if (!Number.isInteger(from) || from < 0) {
      fail(400, 'BadRequest', `invalid resourceVersion ${request.resourceVersion}`);
      return;
    }
    if (from !== 0 && from < this.#oldest) {
      if (this.expiredAs === 'http') {
        request.status = 410;
        res.statusCode = 410;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(expiredStatus(from, this.#oldest)));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(`${JSON.stringify({ type: 'ERROR', object: expiredStatus(from, this.#oldest) })}\n`);
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.setHeader('transfer-encoding', 'chunked');
    res.flushHeaders();
    const watch: OpenWatch = { namespace, selector, bookmarks: request.allowWatchBookmarks, res };
    // resourceVersion 0 or absent: the current state as ADDED events, then changes.
    const backlog =
      from === 0
        ? [...this.#slices.values()].map((object) => ({ rv: 0, type: 'ADDED' as const, object }))
        : this.#history.filter((e) => e.rv > from);
    for (const event of backlog) {
      if (selects(event.object, namespace, selector)) res.write(eventLine(event));
    }
    this.#watches.add(watch);
    res.on('close', () => this.#watches.delete(watch));
  }

  #publish(event: StoredEvent): void {
    this.#history.push(event);
    for (const watch of this.#watches) {
      if (selects(event.object, watch.namespace, watch.selector)) watch.res.write(eventLine(event));
    }
  }
}

function eventLine(event: StoredEvent): string {
  return `${JSON.stringify({ type: event.type, object: event.object })}\n`;
}

function sliceObject(
  slice: FakeSlice,
  namespace: string,
  rv: number,
  previous: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const previousMeta = previous?.metadata as Record<string, unknown> | undefined;
  const created =
    (previousMeta?.creationTimestamp as string | undefined) ?? `${new Date().toISOString().slice(0, 19)}Z`;
  return {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: {
      name: slice.name,
      generateName: `${slice.service}-`,
      namespace,
      uid: (previousMeta?.uid as string | undefined) ?? randomUUID(),
      resourceVersion: String(rv),
      generation: ((previousMeta?.generation as number | undefined) ?? 0) + 1,
      creationTimestamp: created,
      labels: {
        'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
        'kubernetes.io/service-name': slice.service,
      },
      annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': created },
      ownerReferences: [
        {
          apiVersion: 'v1',
          kind: 'Service',
          name: slice.service,
          uid: '6f1c3a52-8a5e-4d8e-9a57-0c3e2b7f1d10',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        {
          manager: 'kube-controller-manager',
          operation: 'Update',
          apiVersion: 'discovery.k8s.io/v1',
          time: created,
          fieldsType: 'FieldsV1',
          fieldsV1: {
            'f:addressType': {},
            'f:endpoints': {},
            'f:metadata': { 'f:labels': {} },
            'f:ports': {},
          },
        },
      ],
    },
    addressType: slice.addressType ?? 'IPv4',
    // Go's nil slices: an empty slice (the controller's placeholder) has null here, not [].
    endpoints:
      slice.endpoints.length === 0
        ? null
        : slice.endpoints.map((e) => ({
            addresses: e.addresses,
            conditions: e.conditions ?? {},
            targetRef: {
              kind: 'Pod',
              namespace,
              name: e.pod ?? `${slice.service}-${(e.addresses[0] ?? 'x').replace(/[.:]/g, '-')}`,
              uid: randomUUID(),
            },
            ...(e.nodeName === undefined ? {} : { nodeName: e.nodeName }),
            ...(e.zone === undefined ? {} : { zone: e.zone }),
          })),
    ports:
      slice.ports.length === 0
        ? null
        : slice.ports.map((p) => ({ name: p.name ?? '', protocol: p.protocol ?? 'TCP', port: p.port })),
  };
}

function expiredStatus(asked: number, oldest: number): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `too old resource version: ${asked} (${oldest})`,
    reason: 'Expired',
    code: 410,
  };
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  res.statusCode = code;
  res.setHeader('content-type', 'application/json');
  res.end(
    JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message,
      reason,
      code,
    }),
  );
}

/** Equality-based selectors only (`a=b,c==d`); undefined when unparsable. */
function parseSelector(raw: string | undefined): Map<string, string> | undefined {
  const selector = new Map<string, string>();
  if (raw === undefined || raw === '') return selector;
  for (const term of raw.split(',')) {
    const m = /^([a-z0-9./-]+)==?([A-Za-z0-9._-]*)$/.exec(term);
    if (m === null) return undefined;
    selector.set(m[1]!, m[2]!);
  }
  return selector;
}

function selects(
  object: Record<string, unknown>,
  namespace: string,
  selector: ReadonlyMap<string, string>,
): boolean {
  const metadata = object.metadata as { namespace?: string; labels?: Record<string, string> };
  if (metadata.namespace !== namespace) return false;
  for (const [key, value] of selector) if (metadata.labels?.[key] !== value) return false;
  return true;
}
