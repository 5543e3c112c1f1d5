'use strict';
// The Milvus scenario of conformance/SCENARIO.md. Run it under
// `node --require @opentelemetry/auto-instrumentations-node/register`: that hook
// sets up the SDK from OTEL_* variables and instruments @grpc/grpc-js; this file
// only makes the root and step spans through the API.
const { randomUUID } = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const { context, propagation, trace, SpanStatusCode } = require('@opentelemetry/api');
const { MilvusClient, DataType, ErrorCode } = require('@zilliz/milvus2-sdk-node');

const LANGUAGE = 'node';
const COLLECTION = `otel_demo_${LANGUAGE}`;
const MISSING_COLLECTION = 'otel_demo_does_not_exist';
const DIMENSION = 8;
const ROWS = 100;
const TOP_K = 5;
// The hot path (DEMO_BENCH_REPEAT, for `nox -s bench`) uses Bounded: Strong waits for
// Milvus's next time tick (~200 ms) on every call.
const BENCH_CONSISTENCY = 'Bounded';

const tracer = trace.getTracer('milvus-otel-demo');

function vectorOf(id) {
  return Array.from({ length: DIMENSION }, (_, j) => ((id * 8 + j) % 97) / 97.0);
}

// Most SDK calls resolve with an error status instead of rejecting.
function check(response) {
  const status = response.status ?? response;
  if (status.error_code !== ErrorCode.SUCCESS) {
    throw new Error(`${status.error_code}: ${status.reason}`);
  }
  return response;
}

// Some SDK calls throw the bare status object rather than an Error.
function toError(err) {
  if (err instanceof Error) {
    return err;
  }
  return new Error(err?.reason ? `${err.error_code}: ${err.reason}` : JSON.stringify(err));
}

function recordError(span, err) {
  span.recordException(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
}

// One child span per step; a failing step marks its span and rethrows, unless
// the error is expected, in which case it is only recorded.
function step(name, fn, { expectError = false } = {}) {
  return tracer.startActiveSpan(name, async span => {
    try {
      const result = await fn();
      if (expectError) {
        console.error(`step ${name}: expected an error, got none`);
      }
      return result;
    } catch (err) {
      const error = toError(err);
      recordError(span, error);
      if (!expectError) {
        throw new Error(`${name}: ${error.message}`, { cause: error });
      }
    } finally {
      span.end();
    }
  });
}

function search(client, consistencyLevel = 'Strong') {
  return client.search({
    collection_name: COLLECTION,
    data: [vectorOf(0)],
    limit: TOP_K,
    output_fields: ['id'],
    consistency_level: consistencyLevel,
  });
}

function query(client, consistencyLevel = 'Strong') {
  return client.query({
    collection_name: COLLECTION,
    filter: 'id in [10, 11, 12]',
    output_fields: ['id'],
    consistency_level: consistencyLevel,
  });
}

// Search and query, `repeat` times each: the client-side latency of every call, in ms,
// and the CPU time the process spent meanwhile (exports included), in ms.
async function hotPath(client, repeat) {
  const latencies = { Search: [], Query: [] };
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < repeat; i++) {
    for (const [rpc, call] of [['Search', search], ['Query', query]]) {
      const started = performance.now();
      const response = await call(client, BENCH_CONSISTENCY);
      latencies[rpc].push(Math.round((performance.now() - started) * 1000) / 1000);
      check(response);
    }
  }
  const cpu = process.cpuUsage(cpuStarted);
  return { latencies, cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10 };
}

function benchRepeat() {
  const value = process.env.DEMO_BENCH_REPEAT || '0';
  if (!/^\d+$/.test(value)) {
    throw new Error(`DEMO_BENCH_REPEAT=${value}: want a whole number >= 0`);
  }
  return Number(value);
}

// The contract's steps; with repeat > 0 also the hot path, whose latencies it returns.
async function scenario(address, repeat) {
  let client;
  let bench = null;
  try {
    await step('connect', async () => {
      // The constructor starts the Connect RPC; wait for it inside the span.
      client = new MilvusClient({ address });
      await client.connectPromise;
    });
    const exists = await step('has_collection', async () =>
      check(await client.hasCollection({ collection_name: COLLECTION })).value);
    if (exists) {
      await step('drop_existing', async () =>
        check(await client.dropCollection({ collection_name: COLLECTION })));
    }
    await step('create_collection', async () =>
      check(await client.createCollection({
        collection_name: COLLECTION,
        fields: [
          { name: 'id', data_type: DataType.Int64, is_primary_key: true, autoID: false },
          { name: 'vector', data_type: DataType.FloatVector, dim: DIMENSION },
        ],
      })));
    await step('insert', async () => {
      const data = Array.from({ length: ROWS }, (_, id) => ({ id, vector: vectorOf(id) }));
      check(await client.insert({ collection_name: COLLECTION, data }));
    });
    await step('flush', async () =>
      check(await client.flushSync({ collection_names: [COLLECTION] })));
    await step('create_index', async () =>
      check(await client.createIndex({
        collection_name: COLLECTION,
        field_name: 'vector',
        index_type: 'FLAT',
        metric_type: 'L2',
      })));
    await step('load', async () =>
      check(await client.loadCollectionSync({ collection_name: COLLECTION })));
    await step('search', async () => {
      const res = check(await search(client));
      if (res.results.length !== TOP_K) {
        throw new Error(`search returned ${res.results.length} hits, expected ${TOP_K}`);
      }
    });
    await step('query', async () => check(await query(client)));
    if (repeat > 0) {
      bench = await step('bench', () => hotPath(client, repeat));
    }
    await step('delete', async () =>
      check(await client.delete({ collection_name: COLLECTION, filter: 'id in [0, 1, 2, 3, 4]' })));
    await step('expected_failure', async () =>
      check(await client.describeCollection({ collection_name: MISSING_COLLECTION })),
    { expectError: true });
    await step('drop_collection', async () =>
      check(await client.dropCollection({ collection_name: COLLECTION })));
  } finally {
    // Always close, so open channels do not keep the process alive.
    if (client) {
      await step('close', () => client.closeConnection());
    }
  }
  return bench;
}

// The register hook installs a tracer provider behind the API's proxy; flush it
// through the API so a fast exit cannot drop the batch.
async function flushSpans() {
  const provider = trace.getTracerProvider();
  const delegate = provider.getDelegate?.() ?? provider;
  try {
    await delegate.forceFlush?.();
  } catch (err) {
    console.error(`span export failed: ${err.message ?? err}`);
  }
}

async function main() {
  const address = process.env.MILVUS_URI || 'http://127.0.0.1:19530';
  const runId = randomUUID();
  const startedAt = new Date();
  const record = {
    language: LANGUAGE,
    service_name: process.env.OTEL_SERVICE_NAME || `milvus-client-${LANGUAGE}`,
    trace_id: null,
    traceparent: null,
    run_id: runId,
    started_at: startedAt.toISOString(),
    duration_s: null,
    exit_status: 1,
    error: null,
  };

  await tracer.startActiveSpan('milvus-otel-demo', { attributes: { 'demo.run_id': runId } }, async root => {
    record.trace_id = root.spanContext().traceId;
    // The header the gRPC instrumentation sends (with its own span id), for the suite's diagnostics.
    const headers = {};
    propagation.inject(context.active(), headers);
    record.traceparent = headers.traceparent ?? null;
    try {
      const bench = await scenario(address, benchRepeat());
      if (bench) {
        record.bench = bench.latencies;
        record.bench_cpu_ms = bench.cpuMs;
      }
      record.exit_status = 0;
    } catch (err) {
      const error = toError(err);
      recordError(root, error);
      record.error = error.message.split('\n')[0];
    } finally {
      root.end();
    }
  });
  record.duration_s = (Date.now() - startedAt.getTime()) / 1000;

  await flushSpans();
  const line = JSON.stringify(record);
  if (process.env.DEMO_RUN_RECORD) {
    fs.mkdirSync(path.dirname(process.env.DEMO_RUN_RECORD), { recursive: true });
    fs.writeFileSync(process.env.DEMO_RUN_RECORD, line + '\n');
  }
  console.log(line);
  // No process.exit: the process ends on its own once the flush is done.
  process.exitCode = record.exit_status;
}

main();
