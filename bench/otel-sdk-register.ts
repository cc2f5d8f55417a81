/**
 * The plain OpenTelemetry setup readykit's SDK mode is compared with: `@opentelemetry/sdk-node`
 * with HTTP and Express instrumentation, configured from the same OTEL_* variables.
 */
import { register } from 'node:module';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);
new NodeSDK({ instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()] }).start();
