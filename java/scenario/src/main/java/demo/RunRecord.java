package demo;

import com.google.gson.GsonBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** The run record of conformance/SCENARIO.md: written to its path when there is one, always printed last. */
final class RunRecord {
    private static final DateTimeFormatter TIMESTAMP =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private final Map<String, Object> fields = new LinkedHashMap<>();
    private final Path path;
    private final String runId = UUID.randomUUID().toString();
    private final Instant startedAt = Instant.now();
    private String error;
    private int exitStatus;
    private Bench bench;

    /** @param path where the record goes (the harness's DEMO_RUN_RECORD); null, only printed */
    RunRecord(String language, String approach, String serviceName, Path path) {
        this.path = path;
        fields.put("language", language);
        fields.put("approach", approach);
        fields.put("service_name", serviceName);
        fields.put("trace_id", null);
        fields.put("traceparent", null);
    }

    String runId() {
        return runId;
    }

    void traced(String traceId, String traceparent) {
        fields.put("trace_id", traceId);
        fields.put("traceparent", traceparent);
    }

    void bench(Bench result) {
        bench = result;
    }

    /** The run failed: the line on stderr, and as the record's error. */
    void failed(String line, int status) {
        error = line;
        exitStatus = status;
        System.err.println(line);
    }

    /** Writes and prints the record; returns the exit status (the failure's, or 1 if the record cannot be written). */
    int finish() {
        fields.put("run_id", runId);
        fields.put("started_at", TIMESTAMP.format(startedAt));
        fields.put("duration_s", Duration.between(startedAt, Instant.now()).toMillis() / 1000.0);
        fields.put("exit_status", exitStatus);
        fields.put("error", error);
        if (bench != null) {
            fields.put("bench", bench.calls());
            fields.put("bench_cpu_ms", bench.cpuMs());
        }
        String json = new GsonBuilder().serializeNulls().disableHtmlEscaping().create().toJson(fields);
        if (path != null) {
            try {
                if (path.getParent() != null) {
                    Files.createDirectories(path.getParent());
                }
                Files.writeString(path, json + "\n");
            } catch (IOException e) {
                System.err.println("milvus-otel-demo: cannot write run record: " + e);
                exitStatus = 1;
            }
        }
        System.out.println(json);
        return exitStatus;
    }
}
