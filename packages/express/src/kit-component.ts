import type { IncomingMessage, Server, ServerResponse } from 'node:http';

/**
 * A framework-free part of the kit. Health is one; metrics and tracing plug in the same way.
 * `handle` runs per request before the app: it answers the request itself (and does not call
 * `next`), or calls `next` exactly once. Keep it allocation-light: it is on every request.
 */
export interface KitComponent {
  readonly name: string;
  readonly handle?: (req: IncomingMessage, res: ServerResponse, next: () => void) => void;
  /** Called once for each server the kit attaches to. */
  readonly attach?: (server: Server) => void;
  /** Releases timers and listeners; called by `kit.close()`. */
  readonly close?: () => Promise<void> | void;
}

export type RequestStep = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/**
 * Chains the components' handlers into one step; `done` runs after the last one passes.
 * Built once, so the per-request path is a few direct calls.
 */
export function composeSteps(steps: readonly RequestStep[]): RequestStep {
  return steps.reduceRight<RequestStep>(
    (next, step) => (req, res, done) => step(req, res, () => next(req, res, done)),
    (_req, _res, done) => done(),
  );
}
