package demo;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
import io.milvus.v2.exception.MilvusClientException;
import io.milvus.v2.service.collection.request.AddFieldReq;
import io.milvus.v2.service.collection.request.CreateCollectionReq;
import io.milvus.v2.service.collection.request.DescribeCollectionReq;
import io.milvus.v2.service.collection.request.DropCollectionReq;
import io.milvus.v2.service.collection.request.HasCollectionReq;
import io.milvus.v2.service.collection.request.LoadCollectionReq;
import io.milvus.v2.service.index.request.CreateIndexReq;
import io.milvus.v2.service.utility.request.FlushReq;
import io.milvus.v2.service.vector.request.DeleteReq;
import io.milvus.v2.service.vector.request.InsertReq;
import io.milvus.v2.service.vector.request.QueryReq;
import io.milvus.v2.service.vector.request.SearchReq;
import io.milvus.v2.service.vector.request.data.FloatVec;
import io.milvus.v2.service.vector.response.QueryResp;
import io.milvus.v2.service.vector.response.SearchResp;
import io.opentelemetry.api.GlobalOpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.context.Context;
import io.opentelemetry.instrumentation.annotations.SpanAttribute;
import io.opentelemetry.instrumentation.annotations.WithSpan;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Runs the scenario of conformance/SCENARIO.md. Tracing comes from the OpenTelemetry
 * Java agent: each {@code @WithSpan} method below becomes a span, and the agent's gRPC
 * instrumentation adds a CLIENT span (and a traceparent header) to every Milvus call.
 */
public final class MilvusOtelDemo {
    private static final String SERVICE_NAME = "milvus-client-java";
    private static final String COLLECTION = "otel_demo_java";
    private static final String MISSING_COLLECTION = "otel_demo_does_not_exist";
    private static final int DIM = 8;
    private static final int ROWS = 100;
    private static final int TOP_K = 5;
    /** Strong waits for Milvus's next time tick (~200 ms) on every call: the hot path uses Bounded. */
    private static final ConsistencyLevel BENCH_CONSISTENCY = ConsistencyLevel.BOUNDED;
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final String uri;
    private MilvusClientV2 client;
    private String traceId;
    private String traceparent;
    private Map<String, List<Double>> bench;
    private double benchCpuMs;

    private MilvusOtelDemo(String uri) {
        this.uri = uri;
    }

    public static void main(String[] args) {
        String runId = UUID.randomUUID().toString();
        Instant startedAt = Instant.now();
        MilvusOtelDemo demo = new MilvusOtelDemo(env("MILVUS_URI", "http://127.0.0.1:19530"));
        String error = null;
        try {
            demo.run(runId, Integer.parseInt(env("DEMO_BENCH_REPEAT", "0")));
        } catch (Exception e) {
            error = (e.getClass().getSimpleName() + ": " + e.getMessage()).replaceAll("\\s+", " ");
            System.err.println("milvus-otel-demo: run failed: " + error);
        }
        int exitStatus = error == null ? 0 : 1;

        Map<String, Object> record = new LinkedHashMap<>();
        record.put("language", "java");
        record.put("service_name", SERVICE_NAME);
        record.put("trace_id", demo.traceId);
        record.put("traceparent", demo.traceparent);
        record.put("run_id", runId);
        record.put("started_at", TIMESTAMP.format(startedAt));
        record.put("duration_s", Duration.between(startedAt, Instant.now()).toMillis() / 1000.0);
        record.put("exit_status", exitStatus);
        record.put("error", error);
        if (demo.bench != null) {
            record.put("bench", demo.bench);
            record.put("bench_cpu_ms", demo.benchCpuMs);
        }
        Gson gson = new GsonBuilder().serializeNulls().disableHtmlEscaping().create();
        String json = gson.toJson(record);

        String recordPath = System.getenv("DEMO_RUN_RECORD");
        if (recordPath != null && !recordPath.isEmpty()) {
            try {
                Path path = Path.of(recordPath);
                if (path.getParent() != null) {
                    Files.createDirectories(path.getParent());
                }
                Files.writeString(path, json + "\n");
            } catch (IOException e) {
                System.err.println("cannot write run record: " + e);
                exitStatus = 1;
            }
        }
        System.out.println(json);
        // The agent's shutdown hook flushes the span exporter before the JVM exits.
        System.exit(exitStatus);
    }

    /**
     * The root span; a step that throws ends the run and marks this span as failed too.
     * With benchRepeat > 0 (DEMO_BENCH_REPEAT, for nox -s bench) the hot path runs after query.
     */
    @WithSpan("milvus-otel-demo")
    void run(@SpanAttribute("demo.run_id") String runId, int benchRepeat) {
        traceId = Span.current().getSpanContext().getTraceId();
        // What the agent's propagator injects into each gRPC call, for the suite's diagnostics.
        Map<String, String> headers = new LinkedHashMap<>();
        GlobalOpenTelemetry.getPropagators().getTextMapPropagator().inject(Context.current(), headers, Map::put);
        traceparent = headers.get("traceparent");
        connect();
        if (hasCollection()) {
            dropExisting();
        }
        createCollection();
        insert();
        flush();
        createIndex();
        load();
        search();
        query();
        if (benchRepeat > 0) {
            bench = bench(benchRepeat);
        }
        delete();
        try {
            expectedFailure();
        } catch (MilvusClientException expected) {
            // The agent already recorded it on the expected_failure span; the run goes on.
        }
        dropCollection();
        close();
    }

    @WithSpan("connect")
    void connect() {
        client = new MilvusClientV2(ConnectConfig.builder().uri(uri).build());
    }

    @WithSpan("has_collection")
    boolean hasCollection() {
        return client.hasCollection(HasCollectionReq.builder().collectionName(COLLECTION).build());
    }

    @WithSpan("drop_existing")
    void dropExisting() {
        client.dropCollection(DropCollectionReq.builder().collectionName(COLLECTION).build());
    }

    @WithSpan("create_collection")
    void createCollection() {
        CreateCollectionReq.CollectionSchema schema = CreateCollectionReq.CollectionSchema.builder().build();
        schema.addField(AddFieldReq.builder()
                .fieldName("id").dataType(DataType.Int64).isPrimaryKey(true).autoID(false).build());
        schema.addField(AddFieldReq.builder()
                .fieldName("vector").dataType(DataType.FloatVector).dimension(DIM).build());
        client.createCollection(CreateCollectionReq.builder()
                .collectionName(COLLECTION).collectionSchema(schema).build());
    }

    @WithSpan("insert")
    void insert() {
        List<JsonObject> rows = new ArrayList<>();
        for (int id = 0; id < ROWS; id++) {
            JsonArray vector = new JsonArray();
            for (float v : vectorOf(id)) {
                vector.add(v);
            }
            JsonObject row = new JsonObject();
            row.addProperty("id", id);
            row.add("vector", vector);
            rows.add(row);
        }
        client.insert(InsertReq.builder().collectionName(COLLECTION).data(rows).build());
    }

    @WithSpan("flush")
    void flush() {
        client.flush(FlushReq.builder().collectionNames(List.of(COLLECTION)).build());
    }

    @WithSpan("create_index")
    void createIndex() {
        IndexParam index = IndexParam.builder()
                .fieldName("vector")
                .indexType(IndexParam.IndexType.FLAT)
                .metricType(IndexParam.MetricType.L2)
                .build();
        client.createIndex(CreateIndexReq.builder().collectionName(COLLECTION).indexParams(List.of(index)).build());
    }

    /** Synchronous by default: the SDK polls the loading progress until the collection is loaded. */
    @WithSpan("load")
    void load() {
        client.loadCollection(LoadCollectionReq.builder().collectionName(COLLECTION).build());
    }

    @WithSpan("search")
    void search() {
        int hits = searchOnce(ConsistencyLevel.STRONG).getSearchResults().get(0).size();
        if (hits != TOP_K) {
            throw new IllegalStateException("search returned " + hits + " hits, expected " + TOP_K);
        }
    }

    @WithSpan("query")
    void query() {
        queryOnce(ConsistencyLevel.STRONG);
    }

    /**
     * The hot path, repeat times: each call's client-side latency in ms; benchCpuMs gets the
     * CPU time of the whole JVM meanwhile (exporter, JIT and GC threads included).
     */
    @WithSpan("bench")
    Map<String, List<Double>> bench(int repeat) {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpuStarted = os.getProcessCpuTime();
        Map<String, List<Double>> latencies = new LinkedHashMap<>();
        latencies.put("Search", new ArrayList<>(repeat));
        latencies.put("Query", new ArrayList<>(repeat));
        for (int i = 0; i < repeat; i++) {
            long started = System.nanoTime();
            searchOnce(BENCH_CONSISTENCY);
            long searched = System.nanoTime();
            queryOnce(BENCH_CONSISTENCY);
            long queried = System.nanoTime();
            latencies.get("Search").add(millis(searched - started));
            latencies.get("Query").add(millis(queried - searched));
        }
        benchCpuMs = millis(os.getProcessCpuTime() - cpuStarted);
        return latencies;
    }

    private SearchResp searchOnce(ConsistencyLevel consistency) {
        return client.search(SearchReq.builder()
                .collectionName(COLLECTION)
                .annsField("vector")
                .metricType(IndexParam.MetricType.L2)
                .data(List.of(new FloatVec(vectorOf(0))))
                .topK(TOP_K)
                .consistencyLevel(consistency)
                .build());
    }

    private QueryResp queryOnce(ConsistencyLevel consistency) {
        return client.query(QueryReq.builder()
                .collectionName(COLLECTION)
                .filter("id in [10, 11, 12]")
                .outputFields(List.of("id"))
                .consistencyLevel(consistency)
                .build());
    }

    @WithSpan("delete")
    void delete() {
        client.delete(DeleteReq.builder().collectionName(COLLECTION).filter("id in [0, 1, 2, 3, 4]").build());
    }

    /** Throws: the agent records the exception on this span and sets its status to ERROR. */
    @WithSpan("expected_failure")
    void expectedFailure() {
        client.describeCollection(DescribeCollectionReq.builder().collectionName(MISSING_COLLECTION).build());
    }

    @WithSpan("drop_collection")
    void dropCollection() {
        client.dropCollection(DropCollectionReq.builder().collectionName(COLLECTION).build());
    }

    @WithSpan("close")
    void close() {
        client.close();
    }

    private static float[] vectorOf(int id) {
        float[] vector = new float[DIM];
        for (int j = 0; j < DIM; j++) {
            vector[j] = ((id * DIM + j) % 97) / 97.0f;
        }
        return vector;
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e3) / 1e3;
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }
}
