package demo;

import io.milvus.v2.common.ConsistencyLevel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's hot path (DEMO_BENCH_REPEAT=N, for nox -s bench): up to N times the search
 * call then the query call, each recorded as [start (Unix time, µs), client-side latency (ms)],
 * and the JVM's CPU time meanwhile (exporter, JIT and GC threads included).
 */
record Bench(Map<String, List<double[]>> calls, double cpuMs) {

    private static final long POLL_MS = 2;
    private static final long GO_TIMEOUT_MS = 600_000;

    /**
     * How the hot path runs: repeat times at most; with a control folder (DEMO_BENCH_CONTROL)
     * it writes "ready" there, waits for "go" and stops early once "stop" appears there.
     */
    record Plan(int repeat, String control) {
        boolean enabled() {
            return repeat > 0;
        }
    }

    static Bench run(MilvusSteps milvus, ConsistencyLevel consistency, Plan plan) {
        Path stop = plan.control().isEmpty() ? null : Path.of(plan.control(), "stop");
        if (stop != null) {
            awaitGo(Path.of(plan.control()), stop);
        }
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStarted = os.getProcessCpuTime();
        List<double[]> search = new ArrayList<>(Math.min(plan.repeat(), 100_000));
        List<double[]> query = new ArrayList<>(Math.min(plan.repeat(), 100_000));
        for (int i = 0; i < plan.repeat(); i++) {
            if (stop != null && Files.exists(stop)) {
                break;
            }
            Instant searchedAt = Instant.now();
            long started = System.nanoTime();
            milvus.search(consistency);
            long searched = System.nanoTime();
            Instant queriedAt = Instant.now();
            milvus.query(consistency);
            long queried = System.nanoTime();
            search.add(new double[] {micros(searchedAt), millis(searched - started)});
            query.add(new double[] {micros(queriedAt), millis(queried - searched)});
        }
        Map<String, List<double[]>> calls = new LinkedHashMap<>();
        calls.put("Search", search);
        calls.put("Query", query);
        return new Bench(calls, millis(os.getProcessCpuTime() - cpuStarted));
    }

    /** Says "ready" in the control folder and waits until "go" or "stop" is there. */
    private static void awaitGo(Path control, Path stop) {
        try {
            Files.writeString(control.resolve("ready"), "");
            long deadline = System.nanoTime() + GO_TIMEOUT_MS * 1_000_000;
            while (!Files.exists(control.resolve("go")) && !Files.exists(stop)) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("DEMO_BENCH_CONTROL: no go in " + control + " within " + GO_TIMEOUT_MS + " ms");
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

    private static double micros(Instant at) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, at);
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
