// `node --import @readykit/tracing/register app.js`: full OpenTelemetry tracing, configured from
// OTEL_* variables, started before the app loads a single instrumented module. readykit()
// then reads the SDK's spans instead of running its own propagation, and flushes the exporter
// at the end of graceful shutdown.
import { startTracingSdk } from './tracing-sdk.ts';

startTracingSdk();
