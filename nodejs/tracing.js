'use strict';
// The `sdk` approach's tracing, set up in code: NodeSDK with the gRPC instrumentation
// alone and the OTLP gRPC trace exporter (endpoint and resource from the standard
// OTEL_* variables). It must be required before @grpc/grpc-js is first loaded, so the
// instrumentation can patch it. OTEL_SDK_DISABLED=true sets up nothing at all.
// Telemetry never breaks the app: a failed start is only reported, a failed shutdown
// (spans not exported) is left to the caller to report.

let sdk = null;

function disabled() {
  return process.env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true';
}

function start() {
  const { NodeSDK } = require('@opentelemetry/sdk-node');
  const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc');
  const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
  sdk = new NodeSDK({
    traceExporter: new OTLPTraceExporter(),
    instrumentations: [new GrpcInstrumentation()],
    // Traces only: without these NodeSDK would also set up OTLP metrics and logs.
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
}

if (!disabled()) {
  try {
    start();
  } catch (err) {
    console.error(`tracing not started: ${err?.message ?? err}`);
  }
}

// Flushes the spans still buffered and stops the SDK; rejects when the export failed.
async function shutdown() {
  await sdk?.shutdown();
}

module.exports = { shutdown };
