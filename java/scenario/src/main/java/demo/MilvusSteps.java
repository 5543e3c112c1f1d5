package demo;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.milvus.v2.client.ConnectConfig;
import io.milvus.v2.client.MilvusClientV2;
import io.milvus.v2.client.RetryConfig;
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
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/** The Milvus calls of each step of conformance/SCENARIO.md, with milvus-sdk-java's MilvusClientV2. No tracing here. */
final class MilvusSteps {
    /**
     * The SDK waits for a connection on every call (gRPC wait-for-ready), so a Milvus that is
     * down costs a call its whole deadline. Connect's is 10 s by default, with no deadline for the
     * other calls: these bound giving up to 5 s when connecting and 10 s for any later call.
     */
    private static final long CONNECT_TIMEOUT_MS = 5_000;
    private static final long RPC_DEADLINE_MS = 10_000;

    private final String milvusUri;
    private final String uri;
    private final String token;
    private final ScenarioData data;
    private MilvusClientV2 client;

    /**
     * @param milvusUri MILVUS_URI: {@code http(s)://host:port} or {@code host:port}; anything else
     *     ends the run (exit 2) before connecting
     * @param token MILVUS_TOKEN, {@code user:password}; null or empty: no authentication
     */
    MilvusSteps(String milvusUri, String token, ScenarioData data) {
        this.milvusUri = milvusUri;
        this.uri = endpoint(milvusUri);
        this.token = token;
        this.data = data;
    }

    /** The URI the SDK takes (it needs the scheme: host:port becomes http://host:port). */
    private static String endpoint(String milvusUri) {
        String uri = milvusUri.contains("://") ? milvusUri : "http://" + milvusUri;
        try {
            URI parsed = new URI(uri);
            if (("http".equals(parsed.getScheme()) || "https".equals(parsed.getScheme()))
                    && parsed.getHost() != null && parsed.getUserInfo() == null
                    && parsed.getPort() > 0 && parsed.getPort() <= 65535
                    && (parsed.getPath().isEmpty() || parsed.getPath().equals("/"))
                    && parsed.getQuery() == null && parsed.getFragment() == null) {
                return uri;
            }
        } catch (URISyntaxException e) {
            // malformed: said below
        }
        // Not the value itself: a URI with user:password@ in it would print the password.
        throw new RunFailure(
                "MILVUS_URI is malformed: want http(s)://host:port or host:port, e.g. http://127.0.0.1:19530", 2, null);
    }

    void connect() {
        ConnectConfig.ConnectConfigBuilder config = ConnectConfig.builder()
                .uri(uri)
                .connectTimeoutMs(CONNECT_TIMEOUT_MS)
                .rpcDeadlineMs(RPC_DEADLINE_MS);
        if (token != null && !token.isEmpty()) {
            config.token(token); // sent as the authorization metadata of every call
        }
        try {
            client = new MilvusClientV2(config.build());
        } catch (StatusRuntimeException e) {
            Status.Code code = e.getStatus().getCode();
            if (code == Status.Code.UNAUTHENTICATED) {
                throw credentialsRefused(e);
            }
            if (code != Status.Code.UNAVAILABLE && code != Status.Code.DEADLINE_EXCEEDED) {
                throw e;
            }
            throw new RunFailure("cannot reach Milvus at MILVUS_URI=" + milvusUri + ": " + unreachableReason()
                    + "; is it running? nox -s up starts the stack", 1, e);
        }
        // The SDK retries an unavailable server up to 75 times with back-off (minutes): no
        // longer than one call's deadline instead.
        client.retryConfig(RetryConfig.builder().maxRetryTimeoutMs(RPC_DEADLINE_MS).build());
    }

    /**
     * Milvus answered Connect with UNAUTHENTICATED: a wrong MILVUS_TOKEN, or none. The same line in
     * every language, and never the token.
     */
    private RunFailure credentialsRefused(StatusRuntimeException e) {
        String line = token == null || token.isEmpty()
                ? "Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token"
                : "Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token";
        return new RunFailure(line, 1, e);
    }

    /**
     * Why the SDK got no connection: it waits for one until the deadline, so its error says only
     * DEADLINE_EXCEEDED. One plain TCP connect says what is wrong (connection refused, ...).
     */
    private String unreachableReason() {
        URI parsed = URI.create(uri);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(parsed.getHost(), parsed.getPort()), 1_000);
            return "no gRPC answer within " + CONNECT_TIMEOUT_MS / 1000 + " s";
        } catch (IOException e) {
            return e.getMessage();
        }
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
