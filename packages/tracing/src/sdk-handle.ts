/** What graceful shutdown needs of a started OpenTelemetry SDK. */
export interface TracingSdkHandle {
  /** Flushes queued spans to the exporter and stops the SDK. */
  shutdown(): Promise<void>;
}

// A global symbol, not a module variable: `--import @readykit/tracing/register` and the app may
// resolve two copies of this package (dist and source, or two versions), and both must agree.
const KEY = Symbol.for('readykit.tracing.sdk');
const slot = globalThis as { [KEY]?: TracingSdkHandle };

/** The SDK `@readykit/tracing/register` started, if any; `readykit()` flushes it on shutdown. */
export function activeTracingSdk(): TracingSdkHandle | undefined {
  return slot[KEY];
}

/** @internal set by the register entry point. */
export function setActiveTracingSdk(handle: TracingSdkHandle | undefined): void {
  slot[KEY] = handle;
}
