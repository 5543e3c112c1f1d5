package demo;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.common.IndexParam;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The scenario's data, read from the {@code data} section of conformance/scenario.json
 * (the file named by DEMO_SCENARIO): nothing of it is hard-coded here.
 */
public record ScenarioData(
        String collection,
        String idField,
        String vectorField,
        int dimension,
        int rows,
        int vectorModulus,
        IndexParam.IndexType indexType,
        IndexParam.MetricType metricType,
        int searchId,
        int topK,
        String queryFilter,
        String deleteFilter,
        ConsistencyLevel consistency,
        ConsistencyLevel benchConsistency,
        String missingCollection) {

    /** The collection is {@code collection_prefix + language + "_" + approach}, '-' as '_'. */
    public static ScenarioData load(Path file, String language, String approach) throws IOException {
        JsonObject scenario = JsonParser.parseString(Files.readString(file)).getAsJsonObject();
        JsonObject data = scenario.getAsJsonObject("data");
        String collection = (scenario.get("collection_prefix").getAsString() + language + "_" + approach)
                .replace('-', '_');
        return new ScenarioData(
                collection,
                data.get("id_field").getAsString(),
                data.get("vector_field").getAsString(),
                data.get("dimension").getAsInt(),
                data.get("rows").getAsInt(),
                data.get("vector_modulus").getAsInt(),
                IndexParam.IndexType.valueOf(data.get("index_type").getAsString()),
                IndexParam.MetricType.valueOf(data.get("metric_type").getAsString()),
                data.get("search_id").getAsInt(),
                data.get("top_k").getAsInt(),
                data.get("query_filter").getAsString(),
                data.get("delete_filter").getAsString(),
                consistency(data.get("consistency").getAsString()),
                consistency(data.get("bench_consistency").getAsString()),
                data.get("missing_collection").getAsString());
    }

    /** {@code vector[j] = ((id * dimension + j) % vector_modulus) / vector_modulus}. */
    public float[] vectorOf(int id) {
        float[] vector = new float[dimension];
        for (int j = 0; j < dimension; j++) {
            vector[j] = ((id * dimension + j) % vectorModulus) / (float) vectorModulus;
        }
        return vector;
    }

    /** "Strong" is {@link ConsistencyLevel#STRONG}, "Bounded" {@link ConsistencyLevel#BOUNDED}. */
    private static ConsistencyLevel consistency(String name) {
        return ConsistencyLevel.valueOf(name.toUpperCase(Locale.ROOT));
    }
}
