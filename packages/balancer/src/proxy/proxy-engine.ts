import type { IncomingMessage, ServerResponse } from 'node:http';
import { HopPropagation, type RequestContext } from '@readykit/tracing';
import type { RequestWindow } from '../admin/request-window.ts';
import { AttemptLoop } from '../attempt-loop.ts';
import type { Balance } from '../balance/candidate.ts';
import type { Cluster } from '../cluster.ts';
import type { BalancerErrorCode } from '../errors.ts';
import { BalancerErrorCodes } from '../errors.ts';
import type { BalancerConfig } from '../options.ts';
import { Exchange } from './exchange.ts';
import { FORWARDED_HEADERS, ForwardedHeaders } from './forwarded-headers.ts';
import { forwardableRequestHeaders, HeaderNameSet } from './hop-by-hop.ts';
import { requestHasBody } from './request-body.ts';
import { originForm, refuseRequest } from './request-guard.ts';
import type { RetryBudget } from './retry-budget.ts';
import { hasIdempotencyKey, isRetryableRequest } from './retry-policy.ts';

/**
 * The proxy's request handler: refuses what must not reach a backend, builds the headers a
 * backend gets (end-to-end headers, X-Forwarded-* and Forwarded, the trace with a new span,
 * the request id, the remaining deadline) and hands the request to an {@link Exchange}, which
 * picks a backend through the balancing algorithm and retries within the budget.
 */
export class ProxyEngine {
  readonly config: BalancerConfig;
  /** The backends, the algorithm, the retry budget and the metrics, shared with nothing else. */
  readonly cluster: Cluster;
  #hashHeader: string | undefined;
  #hashCookie: string | undefined;
  readonly #propagation: HopPropagation;
  readonly #forwarded: ForwardedHeaders;
  // Names the proxy sets itself: their incoming copies are dropped, never duplicated.
  readonly #rewritten: HeaderNameSet;
  inFlight = 0;

  constructor(config: BalancerConfig, cluster: Cluster) {
    this.config = config;
    this.cluster = cluster;
    this.#hashHeader = config.hashHeader;
    this.#hashCookie = config.hashCookie;
    this.#propagation = new HopPropagation({
      propagators: ['tracecontext', 'baggage'],
      deadline: {
        header: config.deadline.header,
        max: config.deadline.max,
        margin: config.deadline.margin,
        default: Math.min(config.timeouts.firstByte, config.deadline.max),
      },
    });
    this.#forwarded = new ForwardedHeaders({ trustedProxies: config.trustedProxies });
    this.#rewritten = new HeaderNameSet([...FORWARDED_HEADERS, ...this.#propagation.rewrites]);
  }

  get retryBudget(): RetryBudget {
    return this.cluster.retryBudget;
  }

  /** Finished attempts on every backend, for the dashboard's totals. */
  get window(): RequestWindow {
    return this.cluster.window;
  }

  /** The algorithm in use. */
  get balance(): Balance {
    return this.cluster.balance;
  }

  /**
   * Switches the algorithm (a config reload): the next pick uses it; requests in flight keep
   * the backend they have.
   */
  setBalance(balance: Balance, hashing: Pick<BalancerConfig, 'hashHeader' | 'hashCookie'>): void {
    this.cluster.setBalance(balance);
    this.#hashHeader = hashing.hashHeader;
    this.#hashCookie = hashing.hashCookie;
  }

  /** The `request` listener of the proxy server. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const refusal = refuseRequest(req);
    if (refusal !== undefined) {
      res.shouldKeepAlive = false;
      this.reject(res, refusal.status, BalancerErrorCodes.REQUEST_REFUSED, refusal.reason);
      return;
    }
    const now = performance.now();
    this.cluster.retryBudget.recordRequest(now);
    if (req.url === '*') {
      // OPTIONS * asks about this server, not a resource behind it.
      res.writeHead(204, { allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS' }).end();
      return;
    }
    const raw = req.rawHeaders;
    const headers: string[] = [];
    forwardableRequestHeaders(raw, headers, this.#rewritten);
    this.#forwarded.write(req, headers);
    const context = this.#propagation.read(raw);
    const hasBody = requestHasBody(raw);
    const method = req.method!;
    const retryable = !hasBody && (isRetryableRequest(method, false) || hasIdempotencyKey(raw));
    const path = req.url!.charCodeAt(0) === 0x2f ? req.url! : originForm(req.url!);
    const hashKey = this.cluster.balance.name === 'maglev' ? this.#hashKey(req) : undefined;
    const attempts = new AttemptLoop(this.cluster, retryable, !hasBody, hashKey);
    this.inFlight++;
    new Exchange(this, req, res, path, headers, context, context.remainingMs(), hasBody, attempts).send();
  };

  /** Appends the headers of one attempt: the trace with a new span id, the request id, the budget left. */
  writeHopHeaders(context: RequestContext, headers: string[]): void {
    this.#propagation.write(context, headers);
  }

  /** A client request left the proxy (answered, failed or abandoned). */
  requestClosed(): void {
    this.inFlight--;
  }

  /** Answers the client itself: a short plain-text body, the code in a header, never a stack. */
  reject(res: ServerResponse, status: number, code: BalancerErrorCode, message: string): void {
    this.cluster.metrics.answered(code);
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const body = `${message}\n`;
    const headers: Record<string, string | number> = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'cache-control': 'no-store',
      'x-readykit-error': code,
    };
    if (status === 503) headers['retry-after'] = '1';
    res.writeHead(status, headers);
    res.end(res.req?.method === 'HEAD' ? undefined : body);
  }

  #hashKey(req: IncomingMessage): string | undefined {
    const hashHeader = this.#hashHeader;
    const hashCookie = this.#hashCookie;
    if (hashHeader !== undefined) {
      const value = req.headers[hashHeader];
      if (typeof value === 'string' && value !== '') return value;
    }
    if (hashCookie !== undefined) return cookieValue(req.headers.cookie, hashCookie);
    return undefined;
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim() === name) {
      const value = pair.slice(eq + 1).trim();
      return value === '' ? undefined : value;
    }
  }
  return undefined;
}
