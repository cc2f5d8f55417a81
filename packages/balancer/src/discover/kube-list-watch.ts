import { setTimeout as sleep } from 'node:timers/promises';
import { HttpMethod, type KubeConfig, RequestContext, Watch } from '@kubernetes/client-node';
import { type BackoffPolicy, backoffDelay } from '@readykit/health';
import { fetch } from 'undici';

/** A change to one object of the watched collection. */
export type WatchChange = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What {@link KubeListWatch} reports; handlers must not throw. */
export interface ListWatchHandlers {
  /** The whole collection, after the first list and after every relist. */
  listed(items: readonly unknown[]): void;
  /** One change seen by the watch, in resourceVersion order. */
  changed(change: WatchChange, object: unknown): void;
}

/** Where and how {@link KubeListWatch} lists and watches. */
export interface ListWatchTarget {
  readonly kubeConfig: KubeConfig;
  /** The collection's path, e.g. `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices`. */
  readonly path: string;
  readonly labelSelector: string;
  readonly backoff: BackoffPolicy;
  /** One line per relist, API error and backoff. */
  readonly log: (line: string) => void;
  /** Uniform in [0, 1), for the backoff jitter. @default Math.random */
  readonly random?: () => number;
}

/** How one watch request ended. */
interface WatchEnd {
  /** `ended`: the server or the idle timeout closed it; `expired`: 410, relist; `failed`: an error. */
  readonly kind: 'ended' | 'expired' | 'failed' | 'closed';
  readonly reason: string;
  /** Whether it delivered any event (bookmarks count): the server was healthy. */
  readonly progressed: boolean;
  readonly lifetime: number;
}

// A list answers well within this, even for thousands of objects; past it the server is stuck.
const LIST_TIMEOUT_MS = 30_000;
// A watch that lived this long without events still reached a healthy server (a quiet collection
// outlives client-node's 30 s idle timeout); a shorter silent one counts as a failure.
const STEADY_WATCH_MS = 1000;

/**
 * Keeps a local copy of one collection of Kubernetes objects with list-then-watch, the way
 * client-go's reflector does: it lists, watches from the list's resourceVersion with bookmarks,
 * resumes each new watch from the last resourceVersion seen (events or bookmarks), relists
 * when the server answers 410 Gone / Expired, and backs off exponentially with jitter on API
 * errors, resetting once a watch delivers again. Requests go through client-node's KubeConfig
 * (auth, TLS, exec plugins) and its Watch.
 */
export class KubeListWatch {
  readonly #target: ListWatchTarget;
  readonly #handlers: ListWatchHandlers;
  readonly #watcher: Watch;
  readonly #closing = new AbortController();
  #resourceVersion: string | undefined;
  #failures = 0;
  #running: Promise<void> | undefined;
  #stopWatch: (() => void) | undefined;

  constructor(target: ListWatchTarget, handlers: ListWatchHandlers) {
    this.#target = target;
    this.#handlers = handlers;
    this.#watcher = new Watch(target.kubeConfig);
  }

  /** Starts listing and watching; later calls do nothing. */
  start(): void {
    if (this.#closing.signal.aborted) return;
    this.#running ??= this.#run();
  }

  /**
   * Aborts the list, watch or wait in progress and resolves once the loop stopped. A watch
   * still connecting is aborted as soon as it connects (client-node gives no handle before).
   */
  async close(): Promise<void> {
    this.#closing.abort();
    this.#stopWatch?.();
    await this.#running;
  }

  async #run(): Promise<void> {
    while (!this.#closing.signal.aborted) {
      if (this.#resourceVersion === undefined) {
        const failure = await this.#list();
        if (failure !== undefined) {
          await this.#backOff(`list failed (${failure})`);
          continue;
        }
        if (this.#closing.signal.aborted) return;
      }
      const end = await this.#watch(this.#resourceVersion!);
      if (end.kind === 'closed') return;
      const healthy = end.progressed || end.lifetime >= STEADY_WATCH_MS;
      if (healthy) this.#recovered();
      if (end.kind === 'expired') {
        const from = this.#resourceVersion;
        this.#resourceVersion = undefined;
        if (healthy)
          this.#target.log(`watch from resourceVersion ${from} expired (${end.reason}); relisting`);
        else await this.#backOff(`watch from resourceVersion ${from} expired (${end.reason}); relisting`);
      } else if (end.kind === 'failed') {
        await this.#backOff(`watch failed (${end.reason})`);
      } else if (!healthy) {
        await this.#backOff(`watch ended at once (${end.reason})`);
      }
    }
  }

  /** Lists the collection and hands it over; returns why it failed, if it did. */
  async #list(): Promise<string | undefined> {
    const { kubeConfig, path, labelSelector } = this.#target;
    try {
      const url = `${kubeConfig.getCurrentCluster()!.server}${path}?labelSelector=${encodeURIComponent(labelSelector)}`;
      const context = new RequestContext(url, HttpMethod.GET);
      context.setHeaderParam('Accept', 'application/json');
      await kubeConfig.applySecurityAuthentication(context);
      const response = await fetch(url, {
        headers: context.getHeaders(),
        dispatcher: context.getDispatcher(),
        signal: AbortSignal.any([this.#closing.signal, AbortSignal.timeout(LIST_TIMEOUT_MS)]),
      });
      const text = await response.text();
      if (response.status !== 200) return `HTTP ${response.status}${statusMessage(text)}`;
      const list = parseList(text);
      if (list === undefined) return 'the answer is not a list with items and a resourceVersion';
      if (this.#closing.signal.aborted) return undefined;
      const resource = path.slice(path.lastIndexOf('/') + 1);
      this.#target.log(`listed ${list.items.length} ${resource} at resourceVersion ${list.resourceVersion}`);
      this.#handlers.listed(list.items);
      this.#resourceVersion = list.resourceVersion;
      return undefined;
    } catch (error) {
      return describeError(error);
    }
  }

  /** One watch request from `from`, until it ends. */
  #watch(from: string): Promise<WatchEnd> {
    const started = performance.now();
    return new Promise<WatchEnd>((resolve) => {
      let progressed = false;
      let settled = false;
      let controller: AbortController | undefined;
      const end = (kind: WatchEnd['kind'], reason: string) => {
        if (settled) return;
        settled = true;
        this.#stopWatch = undefined;
        controller?.abort();
        resolve({ kind, reason, progressed, lifetime: performance.now() - started });
      };
      this.#stopWatch = () => end('closed', 'closed');
      const onEvent = (type: string, object: unknown) => {
        if (settled) return;
        if (type === 'ERROR') {
          // The server ends the watch after an ERROR; end it here too rather than wait.
          const status = fields(object);
          const reason = `${String(status?.code ?? 'error')} ${String(status?.reason ?? '')}: ${String(status?.message ?? '')}`;
          end(status?.code === 410 ? 'expired' : 'failed', reason);
          return;
        }
        const version = fields(fields(object)?.metadata)?.resourceVersion;
        if (typeof version !== 'string' || version === '') return;
        if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')
          this.#handlers.changed(type, object);
        else if (type !== 'BOOKMARK') return;
        this.#resourceVersion = version;
        progressed = true;
        this.#recovered();
      };
      const onDone = (error: unknown) => {
        if (error === null || error === undefined) end('ended', 'closed by the server');
        else if (fields(error)?.statusCode === 410) end('expired', 'HTTP 410');
        else if (error instanceof Error && error.name === 'TimeoutError') end('ended', 'idle timeout');
        else end('failed', describeError(error));
      };
      const query = {
        labelSelector: this.#target.labelSelector,
        resourceVersion: from,
        allowWatchBookmarks: true,
      };
      this.#watcher.watch(this.#target.path, query, onEvent, onDone).then(
        (started) => {
          if (settled) started.abort();
          else controller = started;
        },
        (error: unknown) => end('failed', describeError(error)),
      );
    });
  }

  /** The server answers a watch properly again: the next failure starts from the shortest wait. */
  #recovered(): void {
    if (this.#failures === 0) return;
    this.#target.log(
      `watching again after ${this.#failures} failed attempt${this.#failures === 1 ? '' : 's'}`,
    );
    this.#failures = 0;
  }

  async #backOff(what: string): Promise<void> {
    if (this.#closing.signal.aborted) return;
    const delay = backoffDelay(this.#target.backoff, ++this.#failures, this.#target.random);
    this.#target.log(`${what}; retrying in ${delay} ms`);
    try {
      await sleep(delay, undefined, { signal: this.#closing.signal });
    } catch {
      // Aborted by close().
    }
  }
}

function parseList(text: string): { items: unknown[]; resourceVersion: string } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  const list = fields(body);
  const version = fields(list?.metadata)?.resourceVersion;
  if (!Array.isArray(list?.items) || typeof version !== 'string' || version === '') return undefined;
  return { items: list.items, resourceVersion: version };
}

/** `: <message>` of a Kubernetes `Status` body, e.g. a 403's "cannot list resource ...". */
function statusMessage(text: string): string {
  try {
    const message = fields(JSON.parse(text))?.message;
    return typeof message === 'string' && message !== '' ? `: ${message.split('\n', 1)[0]}` : '';
  } catch {
    return '';
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = fields(error)?.statusCode;
  // undici's fetch hides the network error (ECONNREFUSED, ...) in `cause`.
  const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${typeof status === 'number' ? `HTTP ${status} ` : ''}${error.message}${cause}`;
}

function fields(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
}
