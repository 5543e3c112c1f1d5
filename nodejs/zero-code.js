'use strict';
// Entry of the `zero-code` approach:
//   node --require @opentelemetry/auto-instrumentations-node/register zero-code.js
// The hook has already started the SDK from OTEL_* variables and patched @grpc/grpc-js;
// the app itself uses only @opentelemetry/api.
const { trace } = require('@opentelemetry/api');
const { main } = require('./run');

// The hook's tracer provider sits behind the API's proxy: flush it through the API,
// so a fast exit cannot drop the last batch.
async function flush() {
  const provider = trace.getTracerProvider();
  const delegate = provider.getDelegate?.() ?? provider;
  await delegate.forceFlush?.();
}

main({ approach: 'zero-code', flush });
