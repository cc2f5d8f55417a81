import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { CheckResult } from './check-result.ts';
import { ErrorCodes, ReadykitError } from './errors.ts';
import { EventLoopMonitor } from './event-loop-monitor.ts';
import { GracefulShutdown, runHooks, type ShutdownEvent, type ShutdownResult } from './graceful-shutdown.ts';
import { type CheckFunction, type CheckKind, HealthCheck } from './health-check.ts';
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
import { writePlain, writeProbeReport } from './probe-http.ts';
import { overallStatus, type ProbeEntry, type ProbeKind, type ProbeReport } from './probe-report.ts';
import { matchProbe } from './probe-request.ts';
import { ReadinessGate, type WarmupTask } from './readiness-gate.ts';
import { isName } from './validate.ts';

export interface HealthEvents {
  state: [change: StateChange];
  check: [name: string, kind: CheckKind, result: CheckResult];
  gate: [gate: ReadinessGate];
  shutdown: [event: ShutdownEvent];
}

export interface ReportOptions {
  /** Names to leave out of the run and the verdict. */
  readonly exclude?: readonly string[];
  /** Only this check or gate; the report is empty when the name is unknown. */
  readonly only?: string;
}

const EVENT_LOOP_CHECK = 'eventloop';

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
      this.#addCheck(
        'liveness',
        resolveCheck('liveness', EVENT_LOOP_CHECK, this.#eventLoop.check, this.options.checkTimeout),
      );
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
   * Tracks a server's requests for draining and starts warming when it listens.
   * Idempotent; several servers may be attached.
   */
  attach(server: Server): this {
    if (!this.#tracker.watch(server)) return this;
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
    return this.#report('readiness', options);
  }

  /** Runs the liveness verdict. Draining does not fail liveness. */
  liveness(options: ReportOptions = {}): Promise<ProbeReport> {
    return this.#report('liveness', options);
  }

  /**
   * Answers a probe request (`GET|HEAD` on a liveness or readiness path, any query) and
   * returns true; returns false, touching nothing, for every other request.
   */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    const match = matchProbe(req.url ?? '/', req.method, req.headers.accept, this.options.paths);
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
    this.#report(request.kind, options).then(
      (report) => {
        if (request.only !== undefined && report.entries.length === 0)
          writePlain(res, 404, 'not found\n', request.head);
        else writeProbeReport(res, report, request, this.options.exposeReasons);
      },
      () => writePlain(res, 500, 'internal error\n', request.head),
    );
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
    if (checks.has(resolved.name) || (kind === 'readiness' && this.#gates.has(resolved.name))) {
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

  async #report(kind: ProbeKind, options: ReportOptions): Promise<ProbeReport> {
    const exclude = new Set(options.exclude ?? []);
    const wanted = (name: string): boolean =>
      options.only === undefined ? !exclude.has(name) : name === options.only;
    const now = Date.now();
    const entries: ProbeEntry[] = [];
    const known: string[] = [];
    const add = (entry: ProbeEntry): void => {
      known.push(entry.name);
      if (wanted(entry.name)) entries.push(entry);
    };
    const state = this.state;
    if (kind === 'readiness') {
      if (state === 'starting')
        add({ name: 'started', type: 'lifecycle', status: 'fail', reason: 'not listening yet', at: now });
      const down = this.lifecycle.isShuttingDown;
      add(
        down
          ? { name: 'shutdown', type: 'lifecycle', status: 'fail', reason: state, at: now }
          : { name: 'shutdown', type: 'lifecycle', status: 'pass', at: now },
      );
      for (const gate of this.#gates.values()) {
        add(
          gate.isOpen
            ? { name: gate.name, type: 'gate', status: 'pass', at: gate.openedAt }
            : { name: gate.name, type: 'gate', status: 'fail', reason: gate.reason, at: now },
        );
      }
      if (this.options.minWarmTime > 0) {
        const left = Math.ceil(this.#warmLeft());
        add(
          left <= 0 || state === 'ready' || down
            ? { name: 'warmup', type: 'lifecycle', status: 'pass', at: now }
            : {
                name: 'warmup',
                type: 'lifecycle',
                status: 'fail',
                reason: `${left} ms of minWarmTime left`,
                at: now,
              },
        );
      }
    }
    const checks = [...this.#checks[kind].values()];
    for (const check of checks) known.push(check.name);
    const running = checks.filter((c) => wanted(c.name)).map((c) => c.current());
    const results = await Promise.all(running);
    let i = 0;
    for (const check of checks) {
      if (!wanted(check.name)) continue;
      const r = results[i++]!;
      entries.push({
        name: check.name,
        type: 'check',
        status: r.status,
        reason: r.reason,
        durationMs: r.durationMs,
        at: r.at,
      });
    }
    const unknownExcludes = [...exclude]
      .filter((n) => !known.includes(n))
      .map((n) => (isName(n) ? n : '(invalid name)'));
    return { kind, status: overallStatus(entries), entries, unknownExcludes: [...new Set(unknownExcludes)] };
  }
}

/** Creates a {@link Health} instance; see {@link HealthOptions}. */
export function createHealth(options?: HealthOptions): Health {
  return new Health(options);
}
