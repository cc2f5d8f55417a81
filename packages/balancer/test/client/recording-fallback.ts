import { Agent, Dispatcher } from 'undici';

/**
 * A fallback dispatcher that records the origin of every call it is handed and sends the call
 * to `target` instead (a local server), so a test sees both that the balanced dispatcher let a
 * call go and that the call still got an answer.
 */
export class RecordingFallback extends Dispatcher {
  /** The origin of each call, in order. */
  readonly origins: string[] = [];
  readonly #target: string;
  readonly #agent = new Agent();

  constructor(target: string) {
    super();
    this.#target = target;
  }

  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.origins.push(String(options.origin));
    return this.#agent.dispatch({ ...options, origin: this.#target }, handler);
  }

  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback === undefined) return this.#agent.close();
    this.#agent.close(callback);
  }

  override destroy(): Promise<void>;
  override destroy(error: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(error: Error | null, callback: () => void): void;
  override destroy(
    errorOrCallback?: Error | null | (() => void),
    callback?: () => void,
  ): Promise<void> | void {
    const done = typeof errorOrCallback === 'function' ? errorOrCallback : callback;
    const destroyed = this.#agent.destroy(
      typeof errorOrCallback === 'function' ? null : (errorOrCallback ?? null),
    );
    if (done === undefined) return destroyed;
    void destroyed.then(done, done);
  }
}
