'use strict';
// What the run needs to know: the environment (MILVUS_URI, DEMO_*) and the scenario's
// data, read from the `data` section of conformance/scenario.json (DEMO_SCENARIO).
const fs = require('node:fs');
const path = require('node:path');

const LANGUAGE = 'node';
const DEFAULT_SCENARIO = path.join(__dirname, '..', 'conformance', 'scenario.json');

function benchRepeat(value = '0') {
  if (!/^\d+$/.test(value)) {
    throw new Error(`DEMO_BENCH_REPEAT=${value}: want a whole number >= 0`);
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
    address: env.MILVUS_URI || 'http://127.0.0.1:19530',
    repeat: benchRepeat(env.DEMO_BENCH_REPEAT || '0'),
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
