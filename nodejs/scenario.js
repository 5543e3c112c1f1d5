'use strict';
// The Milvus steps of conformance/SCENARIO.md, with @zilliz/milvus2-sdk-node. The data
// (collection, dimension, rows, filters, index, consistency, ...) comes from settings.js.
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

// `timeout` (ms) replaces the client's RPC_TIMEOUT_MS for this call (the hot path's own).
function search(client, s, consistency, timeout) {
  return client.search({
    collection_name: s.collection,
    data: [vectorOf(s, s.search_id)],
    limit: s.top_k,
    output_fields: [s.id_field],
    consistency_level: consistency,
    timeout,
  });
}

function query(client, s, consistency, timeout) {
  return client.query({
    collection_name: s.collection,
    filter: s.query_filter,
    output_fields: [s.id_field],
    consistency_level: consistency,
    timeout,
  });
}

// Runs the steps in order; returns the hot path's result when harness.benchRepeat > 0.
async function runScenario(s, harness) {
  const name = { collection_name: s.collection };
  let client;
  let bench = null;
  // A traced step, then, once its span has ended, the harness's hook (a pause).
  const step = async (stepName, fn, options) => {
    const result = await tracedStep(stepName, fn, options);
    await harness.afterStep(stepName);
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
    if (harness.benchRepeat > 0) {
      bench = await step('bench', () => harness.hotPath({
        Search: async timeout => check(await search(client, s, s.bench_consistency, timeout)),
        Query: async timeout => check(await query(client, s, s.bench_consistency, timeout)),
      }));
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
