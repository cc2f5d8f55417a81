import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeBody } from '@readykit/health/http-response';
import type { BackendSet } from '../backend-set.ts';
import { backendReport, backendsReport } from './backends-report.ts';

/** What {@link AdminApi} reads from the balancer. */
export interface AdminApiSource {
  readonly backends: BackendSet;
  /** The algorithm and discovery source now (both may change on a config reload). */
  describe(): { readonly algorithm: string; readonly discovery: string };
  readonly inFlight: () => number;
  /** The bearer token `/api/*` requires; undefined leaves the API open. */
  readonly token: string | undefined;
  readonly log: (line: string) => void;
}

const JSON_TYPE = 'application/json';
const DRAIN_ROUTE = /^\/api\/backends\/([^/]{1,300})\/(drain|undrain)$/;
const ALLOW_POST: readonly string[] = Object.freeze(['Allow', 'POST']);
const CHALLENGE: readonly string[] = Object.freeze(['WWW-Authenticate', 'Bearer realm="readykit-balancer"']);

/**
 * The operators' API on the admin listener: `GET /api/backends` (every backend's state and
 * load), `POST /api/backends/{name}/drain` and `/undrain` (take a backend out of rotation by
 * hand, or put it back; `name` is `host:port` or the URL, percent-encoded). With a token, every
 * `/api/` path requires `Authorization: Bearer <token>`; probes and `/metrics` stay open for
 * the kubelet and Prometheus.
 */
export class AdminApi {
  readonly #source: AdminApiSource;
  readonly #tokenDigest: Buffer | undefined;

  constructor(source: AdminApiSource) {
    this.#source = source;
    this.#tokenDigest = source.token === undefined ? undefined : digest(source.token);
  }

  /** Answers `/api/` requests it knows (and refuses unauthorised ones); false for others. */
  handle = (req: IncomingMessage, res: ServerResponse): boolean => {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0]!;
    if (!path.startsWith('/api/')) return false;
    const head = req.method === 'HEAD';
    if (!this.#authorized(req)) {
      writeJson(res, 401, { error: 'unauthorized', message: 'a bearer token is required' }, head, CHALLENGE);
      return true;
    }
    if (path === '/api/backends') {
      if (req.method !== 'GET' && !head) {
        writeJson(res, 405, { error: 'method not allowed' }, head);
      } else {
        const { algorithm, discovery } = this.#source.describe();
        const report = backendsReport(this.#source.backends, algorithm, discovery, this.#source.inFlight());
        writeJson(res, 200, report, head);
      }
      return true;
    }
    const drain = DRAIN_ROUTE.exec(path);
    if (drain === null) return false;
    if (req.method !== 'POST') {
      writeJson(res, 405, { error: 'method not allowed' }, head, ALLOW_POST);
      return true;
    }
    // A body is neither needed nor read; drop it so the connection stays usable.
    req.resume();
    this.#drain(res, drain[1]!, drain[2] === 'drain');
    return true;
  };

  #drain(res: ServerResponse, encodedName: string, drained: boolean): void {
    let name: string;
    try {
      name = decodeURIComponent(encodedName);
    } catch {
      writeJson(
        res,
        400,
        { error: 'bad request', message: 'the backend name is not valid percent-encoding' },
        false,
      );
      return;
    }
    const backend = this.#source.backends.find(name);
    if (backend === undefined) {
      // The name is not echoed: it is whatever the client sent.
      writeJson(res, 404, { error: 'not found', message: 'no such backend' }, false);
      return;
    }
    if (backend.drain(drained)) {
      this.#source.log(`backend ${backend.id} ${drained ? 'drained' : 'undrained'} by an operator`);
    }
    writeJson(res, 200, backendReport(backend, performance.now()), false);
  }

  #authorized(req: IncomingMessage): boolean {
    if (this.#tokenDigest === undefined) return true;
    const header = req.headers.authorization;
    if (header === undefined || !/^Bearer [!-~]{1,512}$/i.test(header)) return false;
    // Digests have equal lengths, so the comparison time says nothing about the token.
    return timingSafeEqual(digest(header.slice(7)), this.#tokenDigest);
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  head: boolean,
  headers?: readonly string[],
): void {
  writeBody(res, status, JSON_TYPE, JSON.stringify(body), head, headers);
}
