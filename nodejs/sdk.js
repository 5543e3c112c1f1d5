'use strict';
// Entry of the `sdk` approach: `node sdk.js`. tracing.js starts the SDK first, then
// run.js loads the Milvus SDK (and so @grpc/grpc-js, now patched) and runs the scenario.
const tracing = require('./tracing');
const { main } = require('./run');

main({ approach: 'sdk', flush: tracing.shutdown });
