package demo;

import io.milvus.v2.common.ConsistencyLevel;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's hot path (DEMO_BENCH_REPEAT=N, for nox -s bench): N times the search call
 * then the query call, each timed on the client, and the JVM's CPU time meanwhile (exporter,
 * JIT and GC threads included).
 */
record Bench(Map<String, List<Double>> latencies, double cpuMs) {

    static Bench run(MilvusSteps milvus, ConsistencyLevel consistency, int repeat) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStarted = os.getProcessCpuTime();
        List<Double> search = new ArrayList<>(repeat);
        List<Double> query = new ArrayList<>(repeat);
        for (int i = 0; i < repeat; i++) {
            long started = System.nanoTime();
            milvus.search(consistency);
            long searched = System.nanoTime();
            milvus.query(consistency);
            long queried = System.nanoTime();
            search.add(millis(searched - started));
            query.add(millis(queried - searched));
        }
        Map<String, List<Double>> latencies = new LinkedHashMap<>();
        latencies.put("Search", search);
        latencies.put("Query", query);
        return new Bench(latencies, millis(os.getProcessCpuTime() - cpuStarted));
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }
}
