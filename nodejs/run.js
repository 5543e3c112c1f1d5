'use strict';
// What every approach runs once its tracing is set up: the root span around the
// scenario, the run record, the flush of spans, the exit status.
const { randomUUID } = require('node:crypto');
const { context, propagation } = require('@opentelemetry/api');
const harness = require('./harness');
const { loadSettings } = require('./settings');
const { runScenario } = require('./scenario');
const { newRecord, writeRecord } = require('./record');
const { tracer, toError, recordError } = require('./step');

// One line saying why the spans were not exported. The provider's forceFlush rejects
// with an array of errors, the SDK's shutdown with one error.
function exportFailure(err) {
  const first = [err].flat()[0];
  return `warning: spans not exported: ${String(first?.message ?? first).split('\n')[0].trim()}`;
}

// `approach`: the default for DEMO_APPROACH. `flush`: exports the spans still buffered.
// Its failure is one warning line, never fatal: telemetry does not break the run. It
// is bounded by the OTEL_* timeouts of the approach's manifest (approaches.toml).
async function main({ approach: defaultApproach, flush }) {
  const approach = harness.approach(defaultApproach);
  const runId = randomUUID();
  const startedAt = new Date();
  const record = newRecord(approach, runId, startedAt);

  await tracer.startActiveSpan('milvus-otel-demo', { attributes: { 'demo.run_id': runId } }, async root => {
    record.trace_id = root.spanContext().traceId;
    // The header the gRPC instrumentation sends (with its own span id), for the suite's diagnostics.
    const headers = {};
    propagation.inject(context.active(), headers);
    record.traceparent = headers.traceparent ?? null;
    try {
      const hooks = new harness.Harness();
      const bench = await runScenario(loadSettings(approach, harness.scenarioFile()), hooks);
      if (bench) {
        record.bench = bench.calls;
        record.bench_cpu_ms = bench.cpuMs;
      }
      record.exit_status = 0;
    } catch (err) {
      const error = toError(err);
      recordError(root, error);
      record.exit_status = error.exitStatus ?? 1;
      record.error = error.message.split('\n')[0];
      console.error(`error: ${record.error}`);
    } finally {
      root.end();
    }
  });
  record.duration_s = (Date.now() - startedAt.getTime()) / 1000;

  try {
    await flush();
  } catch (err) {
    console.error(exportFailure(err));
  }
  writeRecord(record, harness.recordFile());
  // No process.exit: the process ends on its own once the flush is done.
  process.exitCode = record.exit_status;
}

module.exports = { main };
