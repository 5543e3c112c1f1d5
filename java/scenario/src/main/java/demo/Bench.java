package demo;

import io.milvus.v2.common.ConsistencyLevel;
import java.lang.management.ManagementFactory;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The benchmark's hot path (the harness's DEMO_BENCH_REPEAT=N, for nox -s bench): up to N times the
 * search call then the query call, each recorded as [start (Unix time, µs), client-side latency
 * (ms)], and the JVM's CPU time meanwhile (exporter, JIT and GC threads included). With
 * DEMO_LOAD_CONCURRENCY=C above 1 (nox -s load), C threads of a pool run that loop at once. nox -s
 * bench's profile finds the hot path by the name demo.Bench.run.
 */
record Bench(Map<String, List<double[]>> calls, double cpuMs) {

    static Bench run(MilvusSteps milvus, ConsistencyLevel consistency, Harness harness) {
        harness.awaitGo();
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStarted = os.getProcessCpuTime();
        List<double[]> search = new ArrayList<>();
        List<double[]> query = new ArrayList<>();
        int workers = harness.loadConcurrency();
        if (workers == 1) {
            loop(milvus, consistency, harness, search, query);
        } else {
            ExecutorService pool = Executors.newFixedThreadPool(workers);
            try {
                List<Future<List<List<double[]>>>> running = new ArrayList<>();
                for (int w = 0; w < workers; w++) {
                    running.add(pool.submit(() -> {
                        List<double[]> s = new ArrayList<>();
                        List<double[]> q = new ArrayList<>();
                        loop(milvus, consistency, harness, s, q);
                        return List.of(s, q);
                    }));
                }
                for (Future<List<List<double[]>>> worker : running) {
                    List<List<double[]>> found = joined(worker);
                    search.addAll(found.get(0));
                    query.addAll(found.get(1));
                }
            } finally {
                pool.shutdownNow();
            }
        }
        Map<String, List<double[]>> calls = new LinkedHashMap<>();
        calls.put("Search", search);
        calls.put("Query", query);
        return new Bench(calls, millis(os.getProcessCpuTime() - cpuStarted));
    }

    private static void loop(
            MilvusSteps milvus, ConsistencyLevel consistency, Harness harness, List<double[]> search, List<double[]> query) {
        for (int i = 0; i < harness.benchRepeat(); i++) {
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
    }

    /** A worker's calls; its failure is the hot path's, as if it had run in the caller. */
    private static List<List<double[]>> joined(Future<List<List<double[]>>> worker) {
        try {
            return worker.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException failure) {
                throw failure;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("hot path interrupted", e);
        }
    }

    private static double micros(Instant at) {
        return ChronoUnit.MICROS.between(Instant.EPOCH, at);
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
