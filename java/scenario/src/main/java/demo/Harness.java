package demo;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;

/**
 * The harness: the DEMO_* settings the conformance tools give a run (conformance/SCENARIO.md) and
 * the hooks they drive: the pause after a step (DEMO_PAUSE_AFTER, DEMO_PAUSE_S) and the bench's
 * hot path (DEMO_BENCH_REPEAT, DEMO_BENCH_CONTROL, DEMO_LOAD_CONCURRENCY; its loop is {@link Bench#run}). No other class
 * reads a DEMO_* variable; the scenario calls the hooks through a Harness.
 */
final class Harness {
    private static final String DEFAULT_SCENARIO = "../conformance/scenario.json";
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[0-9]+");
    private static final Pattern SECONDS = Pattern.compile("[0-9]+(\\.[0-9]+)?");
    // DEMO_BENCH_CONTROL: how often and how long the hot path looks for "go".
    private static final long POLL_MS = 2;
    private static final long GO_TIMEOUT_MS = 600_000;

    private final int benchRepeat;
    private final Path benchControl;
    private final int loadConcurrency;
    private final String pauseAfter;
    private final long pauseMillis;

    private Harness(int benchRepeat, Path benchControl, int loadConcurrency, String pauseAfter, long pauseMillis) {
        this.benchRepeat = benchRepeat;
        this.benchControl = benchControl;
        this.loadConcurrency = loadConcurrency;
        this.pauseAfter = pauseAfter;
        this.pauseMillis = pauseMillis;
    }

    /** DEMO_APPROACH, or the approach's own name. */
    static String approach(String fallback) {
        return DemoRun.env("DEMO_APPROACH", fallback);
    }

    /** DEMO_SCENARIO: the scenario file, whose data the run reads. */
    static Path scenarioFile() {
        return Path.of(DemoRun.env("DEMO_SCENARIO", DEFAULT_SCENARIO));
    }

    /** DEMO_RUN_RECORD: where the run record goes; null, only printed. */
    static Path runRecord() {
        String path = DemoRun.env("DEMO_RUN_RECORD", "");
        return path.isEmpty() ? null : Path.of(path);
    }

    /** The hooks' settings; a malformed one ends the run before connecting (exit 2). */
    static Harness fromEnv() {
        String control = DemoRun.env("DEMO_BENCH_CONTROL", "");
        return new Harness(
                wholeNumber("DEMO_BENCH_REPEAT", "0"),
                control.isEmpty() ? null : Path.of(control),
                count("DEMO_LOAD_CONCURRENCY", "1"),
                DemoRun.env("DEMO_PAUSE_AFTER", ""),
                Math.round(seconds("DEMO_PAUSE_S", "10") * 1000));
    }

    private static int wholeNumber(String name, String fallback) {
        String value = DemoRun.env(name, fallback);
        if (WHOLE_NUMBER.matcher(value).matches()) {
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                // beyond an int: said below
            }
        }
        throw badSetting(name, value, "a whole number >= 0");
    }

    private static int count(String name, String fallback) {
        String value = DemoRun.env(name, fallback);
        if (WHOLE_NUMBER.matcher(value).matches()) {
            try {
                int n = Integer.parseInt(value);
                if (n >= 1) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // beyond an int: said below
            }
        }
        throw badSetting(name, value, "a whole number >= 1");
    }

    private static double seconds(String name, String fallback) {
        String value = DemoRun.env(name, fallback);
        if (!SECONDS.matcher(value).matches()) {
            throw badSetting(name, value, "a number of seconds >= 0");
        }
        return Double.parseDouble(value);
    }

    /** The same line in every language; a usage error, exit 2. */
    private static RunFailure badSetting(String name, String value, String what) {
        return new RunFailure(name + "='" + value + "' is not " + what, 2, null);
    }

    /** How often the hot path runs after query (DEMO_BENCH_REPEAT); 0 skips it. */
    int benchRepeat() {
        return benchRepeat;
    }

    /** How many hot-path loops run at once (DEMO_LOAD_CONCURRENCY, nox -s load); 1: one, in the caller. */
    int loadConcurrency() {
        return loadConcurrency;
    }

    /**
     * After the step DEMO_PAUSE_AFTER, once its span has ended: say so on stdout and wait, so that
     * nox -s faults can kill Milvus between two steps.
     */
    void afterStep(String done) {
        if (!done.equals(pauseAfter)) {
            return;
        }
        System.out.println("paused after " + done);
        System.out.flush();
        try {
            Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** With a control folder: says "ready" there and waits until "go" or "stop" is there. */
    void awaitGo() {
        if (benchControl == null) {
            return;
        }
        try {
            Files.writeString(benchControl.resolve("ready"), "");
            long deadline = System.nanoTime() + GO_TIMEOUT_MS * 1_000_000;
            while (!Files.exists(benchControl.resolve("go")) && !stopped()) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "DEMO_BENCH_CONTROL: no go in " + benchControl + " within " + GO_TIMEOUT_MS + " ms");
                }
                Thread.sleep(POLL_MS);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("DEMO_BENCH_CONTROL", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("DEMO_BENCH_CONTROL: interrupted", e);
        }
    }

    /** Whether the bench has ended the hot path ("stop" in the control folder). */
    boolean stopped() {
        return benchControl != null && Files.exists(benchControl.resolve("stop"));
    }
}
