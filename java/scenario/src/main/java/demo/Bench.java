package demo;

import io.milvus.v2.common.ConsistencyLevel;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's hot path (the harness's DEMO_BENCH_REPEAT=N, for nox -s bench): up to N times the
 * search call then the query call, each recorded as [start (Unix time, µs), client-side latency
 * (ms)], and the JVM's CPU time meanwhile (exporter, JIT and GC threads included). nox -s bench's
 * profile finds the hot path by the name demo.Bench.run.
 */
record Bench(Map<String, List<double[]>> calls, double cpuMs) {

    static Bench run(MilvusSteps milvus, ConsistencyLevel consistency, Harness harness) {
        harness.awaitGo();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStarted = os.getProcessCpuTime();
        int repeat = harness.benchRepeat();
        List<double[]> search = new ArrayList<>(Math.min(repeat, 100_000));
        List<double[]> query = new ArrayList<>(Math.min(repeat, 100_000));
        for (int i = 0; i < repeat; i++) {
            if (harness.stopped()) {
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

    private static double micros(Instant at) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, at);
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
