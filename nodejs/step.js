'use strict';
// Spans the app makes itself, through @opentelemetry/api only: one span per step,
// with failures recorded on it (an `exception` event and status ERROR).
const { trace, SpanStatusCode } = require('@opentelemetry/api');

const tracer = trace.getTracer('milvus-otel-demo');

// A failure already said in one line for the user: a step that fails with it makes it
// the run's error as it is, without the step's name.
class Told extends Error {}

// Some Milvus SDK calls throw the bare status object rather than an Error.
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

// Runs fn inside a span named `name`. A failing step marks its span and rethrows.
// With expectError (true, or what the call does, for the message), the error is
// only recorded, and success is the failure.
function step(name, fn, { expectError = false } = {}) {
  return tracer.startActiveSpan(name, async span => {
    let result;
    try {
      result = await fn();
    } catch (err) {
      const error = toError(err);
      recordError(span, error);
      if (!expectError) {
        throw error instanceof Told ? error : new Error(`${name}: ${error.message}`, { cause: error });
      }
      return undefined;
    } finally {
      span.end();
    }
    if (expectError) {
      const call = typeof expectError === 'string' ? expectError : 'the call';
      throw new Error(`${name}: ${call} succeeded, expected an error`);
    }
    return result;
  });
}

module.exports = { tracer, step, toError, recordError, Told };
