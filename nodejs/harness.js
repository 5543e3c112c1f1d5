'use strict';
// The harness: the DEMO_* settings the conformance tools give a run (conformance/SCENARIO.md)
// and the hooks they drive: the bench's hot path (DEMO_BENCH_REPEAT, DEMO_BENCH_CONTROL, and
// DEMO_LOAD_CONCURRENCY for nox -s load) and
// the pause after a step (DEMO_PAUSE_AFTER, DEMO_PAUSE_S). No other file reads a DEMO_*
// variable; the scenario calls the hooks through a Harness.
const fs = require('node:fs');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { SettingsError } = require('./settings');

const DEFAULT_SCENARIO = path.join(__dirname, '..', 'conformance', 'scenario.json');
// DEMO_BENCH_CONTROL: how often and how long the hot path looks for `go`.
const BENCH_POLL_MS = 2;
const BENCH_GO_TIMEOUT_MS = 600_000;
// Each hot-path call's deadline, rather than a step call's 4 s: nox -s bench and load pause a
// client mid-call while the others take their turns (as Go's harness does).
const BENCH_CALL_TIMEOUT_MS = 30_000;

// DEMO_APPROACH, or the approach's own name.
function approach(fallback, env = process.env) {
  return env.DEMO_APPROACH || fallback;
}

// DEMO_SCENARIO: the scenario file, whose `data` the run reads.
function scenarioFile(env = process.env) {
  return env.DEMO_SCENARIO || DEFAULT_SCENARIO;
}

// DEMO_RUN_RECORD: where the run record goes; null, only printed.
function recordFile(env = process.env) {
  return env.DEMO_RUN_RECORD || null;
}

// The variable's value (or the default) if it has the form; else the line every language says.
function checked(env, name, form, what, fallback) {
  const value = env[name] || fallback;
  if (!form.test(value)) {
    throw new SettingsError(`${name}='${value}' is not ${what}`);
  }
  return value;
}

class Harness {
  // The hooks' settings; a malformed one is a SettingsError (exit 2, before connecting).
  constructor(env = process.env) {
    this.benchRepeat = Number(checked(env, 'DEMO_BENCH_REPEAT', /^\d+$/, 'a whole number >= 0', '0'));
    this.benchControl = env.DEMO_BENCH_CONTROL || null;
    this.loadConcurrency = Number(checked(env, 'DEMO_LOAD_CONCURRENCY', /^\d*[1-9]\d*$/, 'a whole number >= 1', '1'));
    this.pauseAfter = env.DEMO_PAUSE_AFTER || null;
    this.pauseS = Number(checked(env, 'DEMO_PAUSE_S', /^\d+(\.\d+)?$/, 'a number of seconds >= 0', '10'));
  }

  // After the step DEMO_PAUSE_AFTER, once its span has ended: say so (stdout to a file or a
  // pipe is synchronous on Linux: the line is out before the sleep) and wait, so that
  // nox -s faults can kill Milvus before the next step.
  async afterStep(name) {
    if (name === this.pauseAfter) {
      console.log(`paused after ${name}`);
      await sleep(this.pauseS * 1000);
    }
  }

  // Each of `calls` ({ name: async (timeoutMs) => ... }) in turn, up to benchRepeat times, in each of
  // loadConcurrency loops at once (promises on the one event loop): every call as
  // [start (Unix time, µs), client-side latency (ms)] per name, and the CPU time the process
  // spent meanwhile (exports included, ms). With a control folder it writes `ready` there,
  // waits for `go` and stops early once `stop` appears there. nox -s bench's profile finds the
  // hot path by the name hotPath.
  async hotPath(calls) {
    const timed = Object.fromEntries(Object.keys(calls).map(name => [name, []]));
    const stop = this.benchControl && path.join(this.benchControl, 'stop');
    if (this.benchControl) {
      await this.awaitGo(stop);
    }
    const cpuStarted = process.cpuUsage();
    const hotPathLoop = async () => {
      for (let i = 0; i < this.benchRepeat && !(stop && fs.existsSync(stop)); i++) {
        for (const [name, call] of Object.entries(calls)) {
          const startedUs = Math.round((performance.timeOrigin + performance.now()) * 1000);
          const started = performance.now();
          await call(BENCH_CALL_TIMEOUT_MS);
          timed[name].push([startedUs, Math.round((performance.now() - started) * 1000) / 1000]);
        }
      }
    };
    await Promise.all(Array.from({ length: this.loadConcurrency }, hotPathLoop));
    const cpu = process.cpuUsage(cpuStarted);
    return { calls: timed, cpuMs: Math.round((cpu.user + cpu.system) / 100) / 10 };
  }

  // Says `ready` in the control folder and waits until `go` or `stop` is there.
  async awaitGo(stop) {
    const control = this.benchControl;
    fs.writeFileSync(path.join(control, 'ready'), '');
    const deadline = Date.now() + BENCH_GO_TIMEOUT_MS;
    while (!fs.existsSync(path.join(control, 'go')) && !fs.existsSync(stop)) {
      if (Date.now() > deadline) {
        throw new Error(`DEMO_BENCH_CONTROL: no go in ${control} within ${BENCH_GO_TIMEOUT_MS} ms`);
      }
      await sleep(BENCH_POLL_MS);
    }
  }
}

module.exports = { approach, scenarioFile, recordFile, Harness };
