package demo;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.common.ConsistencyLevel;
import io.milvus.v2.common.DataType;
import io.milvus.v2.common.IndexParam;
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
import java.util.ArrayList;
import java.util.List;

/** The Milvus calls of each step of conformance/SCENARIO.md, with milvus-sdk-java's MilvusClientV2. No tracing here. */
final class MilvusSteps {
    private final String uri;
    private final ScenarioData data;
    private MilvusClientV2 client;

    MilvusSteps(String uri, ScenarioData data) {
        this.uri = uri;
        this.data = data;
    }

    void connect() {
        client = new MilvusClientV2(ConnectConfig.builder().uri(uri).build());
    }

    boolean hasCollection() {
        return client.hasCollection(HasCollectionReq.builder().collectionName(data.collection()).build());
    }

    void dropCollection() {
        client.dropCollection(DropCollectionReq.builder().collectionName(data.collection()).build());
    }

    void createCollection() {
        CreateCollectionReq.CollectionSchema schema = CreateCollectionReq.CollectionSchema.builder().build();
        schema.addField(AddFieldReq.builder()
                .fieldName(data.idField()).dataType(DataType.Int64).isPrimaryKey(true).autoID(false).build());
        schema.addField(AddFieldReq.builder()
                .fieldName(data.vectorField()).dataType(DataType.FloatVector).dimension(data.dimension()).build());
        client.createCollection(CreateCollectionReq.builder()
                .collectionName(data.collection()).collectionSchema(schema).build());
    }

    void insert() {
        List<JsonObject> rows = new ArrayList<>();
        for (int id = 0; id < data.rows(); id++) {
            JsonArray vector = new JsonArray();
            for (float v : data.vectorOf(id)) {
                vector.add(v);
            }
            JsonObject row = new JsonObject();
            row.addProperty(data.idField(), id);
            row.add(data.vectorField(), vector);
            rows.add(row);
        }
        client.insert(InsertReq.builder().collectionName(data.collection()).data(rows).build());
    }

    void flush() {
        client.flush(FlushReq.builder().collectionNames(List.of(data.collection())).build());
    }

    void createIndex() {
        IndexParam index = IndexParam.builder()
                .fieldName(data.vectorField())
                .indexType(data.indexType())
                .metricType(data.metricType())
                .build();
        client.createIndex(CreateIndexReq.builder()
                .collectionName(data.collection()).indexParams(List.of(index)).build());
    }

    /** Synchronous by default: the SDK polls the load state until the collection is loaded. */
    void load() {
        client.loadCollection(LoadCollectionReq.builder().collectionName(data.collection()).build());
    }

    /** The vector of search_id, top_k hits expected: fewer fails the run. */
    void search(ConsistencyLevel consistency) {
        int hits = client.search(SearchReq.builder()
                        .collectionName(data.collection())
                        .annsField(data.vectorField())
                        .metricType(data.metricType())
                        .data(List.of(new FloatVec(data.vectorOf(data.searchId()))))
                        .topK(data.topK())
                        .consistencyLevel(consistency)
                        .build())
                .getSearchResults().get(0).size();
        if (hits != data.topK()) {
            throw new IllegalStateException("search returned " + hits + " hits, expected " + data.topK());
        }
    }

    void query(ConsistencyLevel consistency) {
        client.query(QueryReq.builder()
                .collectionName(data.collection())
                .filter(data.queryFilter())
                .outputFields(List.of(data.idField()))
                .consistencyLevel(consistency)
                .build());
    }

    void delete() {
        client.delete(DeleteReq.builder().collectionName(data.collection()).filter(data.deleteFilter()).build());
    }

    /**
     * Describes the missing collection: Milvus answers with an error, thrown as
     * {@link io.milvus.v2.exception.MilvusClientException}. If it answers with a collection
     * instead, that is the run's failure.
     */
    void describeMissingCollection() {
        client.describeCollection(DescribeCollectionReq.builder().collectionName(data.missingCollection()).build());
        throw new IllegalStateException("expected_failure: describing the missing collection "
                + data.missingCollection() + " succeeded, expected an error");
    }

    void close() {
        client.close();
    }
}
