'use strict';
// The run record of conformance/SCENARIO.md: written to its file when there is one
// (the harness's DEMO_RUN_RECORD), and always printed as the last line of stdout.
const fs = require('node:fs');
const path = require('node:path');
const { LANGUAGE } = require('./settings');

function newRecord(approach, runId, startedAt) {
  return {
    language: LANGUAGE,
    approach,
    service_name: process.env.OTEL_SERVICE_NAME || `milvus-client-${LANGUAGE}-${approach}`,
    trace_id: null,
    traceparent: null,
    run_id: runId,
    started_at: startedAt.toISOString(),
    duration_s: null,
    exit_status: 1,
    error: null,
  };
}

function writeRecord(record, file) {
  const line = JSON.stringify(record);
  if (file) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, line + '\n');
  }
  console.log(line);
}

module.exports = { newRecord, writeRecord };
