'use strict';
// What the run needs to know about Milvus: the environment (MILVUS_URI, MILVUS_TOKEN) and
// the scenario's data, read from the `data` section of the scenario file (conformance/scenario.json,
// or the harness's DEMO_SCENARIO).
const fs = require('node:fs');

const LANGUAGE = 'node';

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

function loadSettings(approach, file, env = process.env) {
  const scenario = JSON.parse(fs.readFileSync(file, 'utf8'));
  const data = scenario.data;
  if (!data) {
    throw new Error(`${file}: no "data" section`);
  }
  return {
    address: milvusUri(env.MILVUS_URI || 'http://127.0.0.1:19530'),
    // user:password, or undefined (no authentication). Never printed, recorded or put on a span.
    token: env.MILVUS_TOKEN || undefined,
    collection: `${scenario.collection_prefix}${LANGUAGE}_${approach}`.replace(/-/g, '_'),
    ...data,
  };
}

// vector[j] = ((id * dimension + j) % vector_modulus) / vector_modulus
function vectorOf(settings, id) {
  const { dimension, vector_modulus: modulus } = settings;
  return Array.from({ length: dimension }, (_, j) => ((id * dimension + j) % modulus) / modulus);
}

module.exports = { LANGUAGE, SettingsError, loadSettings, vectorOf };
