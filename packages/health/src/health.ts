import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { CheckResult } from './check-result.ts';
import { ErrorCodes, ReadykitError } from './errors.ts';
import { EventLoopMonitor } from './event-loop-monitor.ts';
import { GracefulShutdown, runHooks, type ShutdownEvent, type ShutdownResult } from './graceful-shutdown.ts';
import { type CheckFunction, type CheckKind, HealthCheck } from './health-check.ts';
import { writePlain } from './http-response.ts';
import { InflightTracker } from './inflight-tracker.ts';
import { Lifecycle, type LifecycleState, type StateChange, type StateListener } from './lifecycle.ts';
import {
  assertShutdownBudget,
  type CheckOptions,
  type GateOptions,
  type HealthOptions,
  type HookOptions,
  type ResolvedCheck,
  type ResolvedHealthOptions,
  type ResolvedHook,
  resolveCheck,
  resolveGate,
  resolveHealthOptions,
  resolveHook,
  type ShutdownHook,
} from './options.ts';
import { writeProbeReport } from './probe-http.ts';
import type { ProbeKind, ProbeReport } from './probe-report.ts';
import { buildReport, EVENT_LOOP_ENTRY, type ReportOptions } from './probe-reporter.ts';
import { isProbeUrl, matchProbe } from './probe-request.ts';
import { ReadinessGate, type WarmupTask } from './readiness-gate.ts';
import { interceptRequests } from './request-interceptor.ts';

export interface AttachOptions {
  /** Answer probe requests before the server's own request listeners. @default false */
  readonly probes?: boolean;
}

export interface HealthEvents {
  state: [change: StateChange];
  check: [name: string, kind: CheckKind, result: CheckResult];
  gate: [gate: ReadinessGate];
  shutdown: [event: ShutdownEvent];
}

/**
 * Liveness, readiness with warmup gates, and graceful shutdown for one service instance,
 * with no web framework: attach it to any `node:http` server and route probe requests
 * through `handle()`.
 */
export class Health extends EventEmitter<HealthEvents> {
  readonly options: ResolvedHealthOptions;
  readonly lifecycle = new Lifecycle();
  readonly #checks: Record<CheckKind, Map<string, HealthCheck>> = {
    liveness: new Map(),
    readiness: new Map(),
  };
  readonly #gates = new Map<string, ReadinessGate>();
  readonly #hooks: ResolvedHook[];
  readonly #tracker = new InflightTracker();
  readonly #probeServers = new WeakSet<Server>();
  readonly #shutdown: GracefulShutdown;
  readonly #eventLoop: EventLoopMonitor | undefined;
  #startedAt = 0;
  #warmTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: HealthOptions = {}) {
    super();
    this.options = resolveHealthOptions(options);
    this.#hooks = [...this.options.hooks];
    this.lifecycle.subscribe((change) => this.emit('state', change));
    for (const check of this.options.readiness) this.#addCheck('readiness', check);
    for (const check of this.options.liveness) this.#addCheck('liveness', check);
    if (this.options.eventLoop !== false) {
      const { threshold, window } = this.options.eventLoop;
      this.#eventLoop = new EventLoopMonitor({
        threshold,
        window,
        sampleInterval: Math.min(100, threshold / 4),
      });
      this.#eventLoop.start();
    }
    for (const gate of this.options.gates) this.#addGate(gate.name, gate);
    this.#shutdown = new GracefulShutdown({
      settings: this.options.shutdown,
      lifecycle: this.lifecycle,
      tracker: this.#tracker,
      hooks: () => this.#hooks,
      emit: (event) => this.emit('shutdown', event),
      exit: (code) => process.exit(code),
    });
    this.#shutdown.installSignalHandlers();
  }

  get state(): LifecycleState {
    return this.lifecycle.state;
  }

  /** True when `attach(server, { probes: true })` answers this server's probes before its listeners. */
  answersProbesOn(server: Server): boolean {
    return this.#probeServers.has(server);
  }

  /** Requests in flight on the attached servers. */
  get inflight(): number {
    return this.#tracker.size;
  }

  /** Subscribes to lifecycle transitions; returns the unsubscribe function. */
  subscribe(listener: StateListener): () => void {
    return this.lifecycle.subscribe(listener);
  }

  /** The gate declared under `name`. Throws RK_ERR_UNKNOWN_GATE for a name never declared. */
  gate(name: string): ReadinessGate {
    const gate = this.#gates.get(name);
    if (gate === undefined) {
      const known = [...this.#gates.keys()].map((n) => `"${n}"`).join(', ') || 'none';
      throw new ReadykitError(ErrorCodes.UNKNOWN_GATE, `no gate named "${name}" (declared: ${known})`);
    }
    return gate;
  }

  get gates(): readonly ReadinessGate[] {
    return [...this.#gates.values()];
  }

  /** Declares a gate; allowed until the instance is ready. */
  addGate(name: string, warmup?: WarmupTask | GateOptions): ReadinessGate {
    if (this.state !== 'starting' && this.state !== 'warming') {
      throw new ReadykitError(ErrorCodes.LIFECYCLE, `cannot add gate "${name}" once ${this.state}`);
    }
    return this.#addGate(name, resolveGate('gates', name, warmup));
  }

  /** Adds a check after construction. */
  addCheck(kind: CheckKind, name: string, check: CheckFunction | CheckOptions): this {
    this.#addCheck(kind, resolveCheck(kind, name, check, this.options.checkTimeout));
    return this;
  }

  /** Adds a cleanup hook run after draining; refused when it would not fit the grace period. */
  onShutdown(name: string, hook: ShutdownHook | HookOptions): this {
    const resolved = resolveHook('hooks', name, hook, this.options.shutdown.hookTimeout);
    if (this.#hooks.some((h) => h.name === name)) {
      throw new ReadykitError(ErrorCodes.DUPLICATE_NAME, `hooks: the name "${name}" is used twice`);
    }
    assertShutdownBudget(this.options.shutdown, [...this.#hooks, resolved]);
    this.#hooks.push(resolved);
    return this;
  }

  /**
   * Adopts the connection of a request that reached the service before `attach()` (a server
   * attached on its first request), so a shutdown finds that connection too.
   */
  adopt(req: IncomingMessage): void {
    this.#tracker.adopt(req);
  }

  /**
   * Tracks a server's connections for draining and starts warming when it listens.
   * With `probes: true`, probe requests are answered in front of the server's request
   * listeners, so they never reach the framework's router (cheaper, and independent of
   * middleware order). Idempotent; several servers may be attached.
   */
  attach(server: Server, options: AttachOptions = {}): this {
    if (this.#tracker.servers.has(server)) return this;
    this.#tracker.watch(server);
    if (options.probes === true) {
      this.#probeServers.add(server);
      interceptRequests(server, (req, res) => this.handle(req, res));
    }
    if (server.listening) this.start();
    else server.once('listening', () => this.start());
    return this;
  }

  /** starting → warming; the minimum warm time counts from here. Called by `attach()`. */
  start(): this {
    if (this.state !== 'starting') return this;
    this.#startedAt = Date.now();
    this.lifecycle.transition('warming');
    this.#evaluate();
    return this;
  }

  /** Resolves once the instance is ready (all gates open, minimum warm time elapsed). */
  whenReady(): Promise<void> {
    if (this.state === 'ready') return Promise.resolve();
    return new Promise((resolve) => {
      const off = this.subscribe((change) => {
        if (change.to === 'ready') {
          off();
          resolve();
        }
      });
    });
  }

  /** Runs the readiness verdict. */
  readiness(options: ReportOptions = {}): Promise<ProbeReport> {
    return Promise.resolve(this.#report('readiness', options));
  }

  /** Runs the liveness verdict. Draining does not fail liveness. */
  liveness(options: ReportOptions = {}): Promise<ProbeReport> {
    return Promise.resolve(this.#report('liveness', options));
  }

  /**
   * Answers a probe request (`GET|HEAD` on a liveness or readiness path, any query) and
   * returns true; returns false, touching nothing, for every other request.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const url = req.url ?? '/';
    // The miss path runs for every request of the service: no allocation, no header parsing.
    if (!isProbeUrl(url, this.options.paths)) return false;
    const match = matchProbe(url, req.method, req.headers.accept, this.options.paths);
    if (!match.match) return false;
    if ('refuse' in match) {
      writePlain(
        res,
        match.refuse,
        match.refuse === 404 ? 'not found\n' : 'method not allowed\n',
        req.method === 'HEAD',
      );
      return true;
    }
    const { request } = match;
    const options: ReportOptions =
      request.only === undefined ? { exclude: request.exclude } : { only: request.only };
    const write = (report: ProbeReport): void => {
      if (request.only !== undefined && report.entries.length === 0)
        writePlain(res, 404, 'not found\n', request.head);
      else writeProbeReport(res, report, request, this.options.exposeReasons);
    };
    const report = this.#report(request.kind, options);
    if (report instanceof Promise)
      report.then(write, () => writePlain(res, 500, 'internal error\n', request.head));
    else write(report);
    return true;
  }

  /** Starts the graceful shutdown timeline, as a signal would. */
  shutdown(reason = 'shutdown()'): Promise<ShutdownResult> {
    return this.#shutdown.run(reason);
  }

  /**
   * Hands the shutdown timeline to a library that handles the signals itself, such as
   * `@godaddy/terminus` through `@readykit/health/terminus`. Removes readykit's signal handlers
   * at once, so one signal never starts two timelines, and returns the steps of readykit's own
   * timeline that such a library lacks: `drain()` fails readiness from now on and marks every
   * response not yet started `Connection: close`; `runHooks()` runs the cleanup hooks in order,
   * each under its timeout, moves to `stopped` and resolves with the outcome. Neither exits.
   */
  detachShutdown(): { drain(): void; runHooks(): Promise<ShutdownResult> } {
    this.#shutdown.removeSignalHandlers();
    return {
      drain: () => {
        if (!this.lifecycle.isShuttingDown) this.lifecycle.transition('draining');
        this.#tracker.startDraining();
      },
      runHooks: async () => {
        const started = Date.now();
        const problems = await runHooks(this.#hooks);
        const durationMs = Date.now() - started;
        this.emit('shutdown', {
          phase: 'hooks',
          elapsed: durationMs,
          detail: problems.length === 0 ? 'cleanup hooks done' : problems.join('; '),
        });
        if (this.lifecycle.state === 'draining') this.lifecycle.transition('stopped');
        return { exitCode: problems.length === 0 ? 0 : 1, problems, abandoned: 0, durationMs };
      },
    };
  }

  /**
   * Stops background work (checks, warmup retries, event loop sampling) and signal
   * handling, and stops watching servers. Does not close servers or exit. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#shutdown.removeSignalHandlers();
    this.#eventLoop?.stop();
    if (this.#warmTimer !== undefined) clearTimeout(this.#warmTimer);
    for (const kind of ['liveness', 'readiness'] as const)
      for (const check of this.#checks[kind].values()) check.stop();
    for (const gate of this.#gates.values()) gate.stop();
    for (const server of [...this.#tracker.servers]) this.#tracker.unwatch(server);
  }

  #addCheck(kind: CheckKind, resolved: ResolvedCheck): void {
    const checks = this.#checks[kind];
    const reserved =
      kind === 'readiness'
        ? this.#gates.has(resolved.name)
        : resolved.name === EVENT_LOOP_ENTRY && this.options.eventLoop !== false;
    if (checks.has(resolved.name) || reserved) {
      throw new ReadykitError(
        ErrorCodes.DUPLICATE_NAME,
        `${kind}: the name "${resolved.name}" is used twice`,
      );
    }
    const check = new HealthCheck({ ...resolved, kind }, (name, k, result) =>
      this.emit('check', name, k, result),
    );
    checks.set(resolved.name, check);
    if (!this.#closed) check.start();
  }

  #addGate(name: string, resolved: ReturnType<typeof resolveGate>): ReadinessGate {
    if (this.#gates.has(name) || this.#checks.readiness.has(name)) {
      throw new ReadykitError(ErrorCodes.DUPLICATE_NAME, `gates: the name "${name}" is used twice`);
    }
    const gate = new ReadinessGate({ ...resolved, random: this.options.random }, (g) => {
      this.emit('gate', g);
      this.#evaluate();
    });
    this.#gates.set(name, gate);
    // Deferred so a warmup task may refer to the value the constructor is still returning.
    setImmediate(() => {
      if (!this.#closed) gate.start();
    }).unref();
    return gate;
  }

  /** warming → ready once every gate is open and the minimum warm time has passed. */
  #evaluate(): void {
    if (this.state !== 'warming') return;
    for (const gate of this.#gates.values()) if (!gate.isOpen) return;
    const left = this.#warmLeft();
    if (left <= 0) {
      this.lifecycle.transition('ready');
      return;
    }
    if (this.#warmTimer !== undefined) clearTimeout(this.#warmTimer);
    this.#warmTimer = setTimeout(() => this.#evaluate(), left);
    this.#warmTimer.unref();
  }

  #warmLeft(): number {
    if (this.#startedAt === 0) return this.options.minWarmTime;
    return this.options.minWarmTime - (Date.now() - this.#startedAt);
  }

  #report(kind: ProbeKind, options: ReportOptions): ProbeReport | Promise<ProbeReport> {
    return buildReport(kind, options, {
      state: this.state,
      shuttingDown: this.lifecycle.isShuttingDown,
      gates: this.#gates.values(),
      minWarmTime: this.options.minWarmTime,
      warmLeft: this.#warmLeft(),
      checks: this.#checks[kind].values(),
      eventLoop: kind === 'liveness' ? this.#eventLoop : undefined,
    });
  }
}

/** Creates a {@link Health} instance; see {@link HealthOptions}. */
export function createHealth(options?: HealthOptions): Health {
  return new Health(options);
}
