'use strict';
// The Milvus steps of conformance/SCENARIO.md, with @zilliz/milvus2-sdk-node. The data
// (collection, dimension, rows, filters, index, consistency, ...) comes from settings.js.
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { MilvusClient, DataType, ErrorCode } = require('@zilliz/milvus2-sdk-node');
const { vectorOf } = require('./settings');
const { step: tracedStep, Told } = require('./step');

// Bounds on every Milvus RPC, so that a dead or hung Milvus fails the step instead of
// hanging: each call gets RPC_TIMEOUT_MS (the SDK's default is 15 s), and the SDK
// retries a failed call (UNAVAILABLE and the like, never DEADLINE_EXCEEDED) at most
// RPC_RETRIES times, each retry with a fresh deadline. Worst case per call:
// (1 + RPC_RETRIES) * RPC_TIMEOUT_MS + 20 ms of retry delay = 8 s, within the contract's
// 10 s to give up connecting and 30 s to fail after Milvus dies.
const RPC_TIMEOUT_MS = 4000;
const RPC_RETRIES = 1;
// gRPC status codes of a Milvus that was not reached: UNAVAILABLE (14, nothing listens)
// and DEADLINE_EXCEEDED (4, it never answered).
const UNREACHABLE = new Set([14, 4]);
// Milvus's answer to Connect when it refuses the credentials (a wrong MILVUS_TOKEN, or none).
const UNAUTHENTICATED = 16;

// The same line in every language, and never the token itself.
function credentialsRefused(token, cause) {
  return new Told(token
    ? "Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token"
    : "Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token", { cause });
}

// Most SDK calls resolve with an error status instead of rejecting.
function check(response) {
  const status = response.status ?? response;
  if (status.error_code !== ErrorCode.SUCCESS) {
    throw new Error(`${status.error_code}: ${status.reason}`);
  }
  return response;
}

function search(client, s, consistency) {
  return client.search({
    collection_name: s.collection,
    data: [vectorOf(s, s.search_id)],
    limit: s.top_k,
    output_fields: [s.id_field],
    consistency_level: consistency,
  });
}

function query(client, s, consistency) {
  return client.query({
    collection_name: s.collection,
    filter: s.query_filter,
    output_fields: [s.id_field],
    consistency_level: consistency,
  });
}

// The benchmark's hot path: up to `repeat` times search then query, each call as
// [start (Unix time, µs), client-side latency (ms)], and the CPU time the process
// spent meanwhile (exports included, ms). With a control folder (DEMO_BENCH_CONTROL)
// it writes `ready` there, waits for `go` and stops early once `stop` appears there.
async function hotPath(client, s) {
  const calls = { Search: [], Query: [] };
  const stop = s.benchControl && path.join(s.benchControl, 'stop');
  if (s.benchControl) {
    await awaitGo(s.benchControl, stop);
  }
  const cpuStarted = process.cpuUsage();
  for (let i = 0; i < s.repeat && !(stop && fs.existsSync(stop)); i++) {
    for (const [rpc, call] of [['Search', search], ['Query', query]]) {
      const startedUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
      const started = performance.now();
      const response = await call(client, s, s.bench_consistency);
      calls[rpc].push([startedUs, Math.round((performance.now() - started) * 1000) / 1000]);
      check(response);
    }
  }
  const cpu = process.cpuUsage(cpuStarted);
  return { calls, cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10 };
}

// DEMO_BENCH_CONTROL: how often and how long the hot path looks for `go`.
const BENCH_POLL_MS = 2;
const BENCH_GO_TIMEOUT_MS = 600_000;

// Says `ready` in the control folder and waits until `go` or `stop` is there.
async function awaitGo(control, stop) {
  fs.writeFileSync(path.join(control, 'ready'), '');
  const deadline = Date.now() + BENCH_GO_TIMEOUT_MS;
  while (!fs.existsSync(path.join(control, 'go')) && !fs.existsSync(stop)) {
    if (Date.now() > deadline) {
      throw new Error(`DEMO_BENCH_CONTROL: no go in ${control} within ${BENCH_GO_TIMEOUT_MS} ms`);
    }
    await sleep(BENCH_POLL_MS);
  }
}

// Runs the steps in order; returns the hot path's result when s.repeat > 0.
async function runScenario(s) {
  const name = { collection_name: s.collection };
  let client;
  let bench = null;
  // A traced step, then, if it is DEMO_PAUSE_AFTER, the pause: once its span has ended,
  // say so (stdout to a file or a pipe is synchronous on Linux: the line is out before
  // the sleep) and wait, so that nox -s faults can kill Milvus before the next step.
  const step = async (stepName, fn, options) => {
    const result = await tracedStep(stepName, fn, options);
    if (stepName === s.pauseAfter) {
      console.log(`paused after ${stepName}`);
      await sleep(s.pauseS * 1000);
    }
    return result;
  };
  try {
    await step('connect', async () => {
      // The constructor starts the Connect RPC; wait for it inside the span.
      client = new MilvusClient({
        address: s.address,
        token: s.token,
        timeout: RPC_TIMEOUT_MS,
        maxRetries: RPC_RETRIES,
      });
      try {
        await client.connectPromise;
      } catch (err) {
        if (err?.code === UNAUTHENTICATED) {
          throw credentialsRefused(s.token, err);
        }
        if (!UNREACHABLE.has(err?.code)) {
          throw err;
        }
        throw new Error(`cannot reach Milvus at MILVUS_URI=${s.address}: ${err.message}; is it running? nox -s up starts the stack`);
      }
    });
    const exists = await step('has_collection', async () =>
      check(await client.hasCollection(name)).value);
    if (exists) {
      await step('drop_existing', async () => check(await client.dropCollection(name)));
    }
    await step('create_collection', async () =>
      check(await client.createCollection({
        ...name,
        fields: [
          { name: s.id_field, data_type: DataType.Int64, is_primary_key: true, autoID: false },
          { name: s.vector_field, data_type: DataType.FloatVector, dim: s.dimension },
        ],
      })));
    await step('insert', async () => {
      const data = Array.from({ length: s.rows }, (_, id) =>
        ({ [s.id_field]: id, [s.vector_field]: vectorOf(s, id) }));
      // Insert alone has no deadline unless given one.
      check(await client.insert({ ...name, data, timeout: RPC_TIMEOUT_MS }));
    });
    await step('flush', async () =>
      check(await client.flushSync({ collection_names: [s.collection] })));
    await step('create_index', async () =>
      check(await client.createIndex({
        ...name,
        field_name: s.vector_field,
        index_type: s.index_type,
        metric_type: s.metric_type,
      })));
    await step('load', async () => check(await client.loadCollectionSync(name)));
    await step('search', async () => {
      const res = check(await search(client, s, s.consistency));
      if (res.results.length !== s.top_k) {
        throw new Error(`search returned ${res.results.length} hits, expected ${s.top_k}`);
      }
    });
    await step('query', async () => check(await query(client, s, s.consistency)));
    if (s.repeat > 0) {
      bench = await step('bench', () => hotPath(client, s));
    }
    await step('delete', async () =>
      check(await client.delete({ ...name, filter: s.delete_filter })));
    await step('expected_failure', async () =>
      check(await client.describeCollection({ collection_name: s.missing_collection })),
    { expectError: `describing ${s.missing_collection}` });
    await step('drop_collection', async () => check(await client.dropCollection(name)));
  } finally {
    // Always close, so open channels do not keep the process alive.
    if (client) {
      await step('close', () => client.closeConnection());
    }
  }
  return bench;
}

module.exports = { runScenario };
