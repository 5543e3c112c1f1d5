'use strict';
// What the run needs to know: the environment (MILVUS_URI, MILVUS_TOKEN, DEMO_*) and the
// scenario's data, read from the `data` section of conformance/scenario.json (DEMO_SCENARIO).
const fs = require('node:fs');
const path = require('node:path');

const LANGUAGE = 'node';
const DEFAULT_SCENARIO = path.join(__dirname, '..', 'conformance', 'scenario.json');

// A setting the run cannot start with: exit 2, before connecting.
class SettingsError extends Error {
  exitStatus = 2;
}

// The forms of conformance/SCENARIO.md: http(s)://host:port or host:port.
const MILVUS_URI_FORM = /^(?:https?:\/\/)?(?:\[[0-9A-Fa-f:.]+\]|[^\s:/@[\]]+):(\d{1,5})$/;

// Checked here, so that a typo fails at once rather than as a connect error. The value
// is not quoted: a URI with user:password@ in it would print the password.
function milvusUri(value) {
  const port = Number(MILVUS_URI_FORM.exec(value)?.[1]);
  if (!(port >= 1 && port <= 65535)) {
    throw new SettingsError('MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. http://127.0.0.1:19530');
  }
  return value;
}

function benchRepeat(value = '0') {
  if (!/^\d+$/.test(value)) {
    throw new SettingsError(`DEMO_BENCH_REPEAT=${value}: want a whole number >= 0`);
  }
  return Number(value);
}

function pauseSeconds(value = '10') {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new SettingsError(`DEMO_PAUSE_S=${value}: want seconds >= 0`);
  }
  return Number(value);
}

function loadSettings(approach, env = process.env) {
  const file = env.DEMO_SCENARIO || DEFAULT_SCENARIO;
  const scenario = JSON.parse(fs.readFileSync(file, 'utf8'));
  const data = scenario.data;
  if (!data) {
    throw new Error(`${file}: no "data" section`);
  }
  return {
    address: milvusUri(env.MILVUS_URI || 'http://127.0.0.1:19530'),
    // user:password, or undefined (no authentication). Never printed, recorded or put on a span.
    token: env.MILVUS_TOKEN || undefined,
    repeat: benchRepeat(env.DEMO_BENCH_REPEAT || '0'),
    // DEMO_BENCH_CONTROL: the folder where the hot path says `ready` and finds `go` and `stop` (nox -s bench).
    benchControl: env.DEMO_BENCH_CONTROL || null,
    // DEMO_PAUSE_AFTER: the step after which the run pauses (nox -s faults kills Milvus there).
    pauseAfter: env.DEMO_PAUSE_AFTER || null,
    pauseS: pauseSeconds(env.DEMO_PAUSE_S || '10'),
    collection: `${scenario.collection_prefix}${LANGUAGE}_${approach}`.replace(/-/g, '_'),
    ...data,
  };
}

// vector[j] = ((id * dimension + j) % vector_modulus) / vector_modulus
function vectorOf(settings, id) {
  const { dimension, vector_modulus: modulus } = settings;
  return Array.from({ length: dimension }, (_, j) => ((id * dimension + j) % modulus) / modulus);
}

module.exports = { LANGUAGE, loadSettings, vectorOf };
