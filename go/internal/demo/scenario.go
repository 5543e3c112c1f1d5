package demo

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/example/milvus-otel-demo/go/internal/harness"
	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// connectTimeout bounds connecting: the client dials with grpc.WithBlock and
// would wait as long as the context lets it. The contract gives up within 10 s.
const connectTimeout = 5 * time.Second

// The run's error when Milvus refuses the connection's credentials: the same line in
// every language, told as it is (not prefixed by the step), and never the token itself.
var (
	errTokenRefused = told("Milvus refused the credentials in MILVUS_TOKEN; the stack's are in .stack/milvus-token")
	errTokenMissing = told("Milvus requires credentials: MILVUS_TOKEN is not set; the stack's are in .stack/milvus-token")
)

// credentialsRefused says why Milvus answered Connect with UNAUTHENTICATED (a wrong
// MILVUS_TOKEN, or none), or returns nil for any other error.
func credentialsRefused(err error, token string) error {
	if status.Code(err) != codes.Unauthenticated {
		return nil
	}
	if token == "" {
		return errTokenMissing
	}
	return errTokenRefused
}

// runScenario runs the steps of conformance/SCENARIO.md against the Milvus of
// s (MILVUS_URI, MILVUS_TOKEN), dialling with dialOptions (the approach's
// instrumentation), and returns the hot path's latencies when h.BenchRepeat > 0.
func runScenario(r *runner, d Data, s Settings, h harness.Harness, dialOptions []grpc.DialOption) (bench harness.Calls, benchCPU float64) {
	var c *milvusclient.Client
	r.step("connect", func(ctx context.Context) (err error) {
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		c, err = milvusclient.New(ctx, &milvusclient.ClientConfig{
			Address: s.URI,
			// The SDK sends base64(APIKey) as the authorization header, the same
			// bytes as Username/Password would: Milvus reads user:password from it.
			APIKey: s.Token,
			// Since client v2.6.4 these extend DefaultGrpcOpts; before, they replaced
			// them. WithReturnConnectionError makes the blocking dial's timeout say why
			// (connection refused, ...) instead of only "context deadline exceeded".
			DialOptions: append(dialOptions, grpc.WithReturnConnectionError()),
		})
		if refused := credentialsRefused(err, s.Token); refused != nil {
			return refused
		}
		// An error that is not Milvus's answer to Connect: Milvus was not reached.
		if code := status.Code(err); err != nil && (code == codes.Unknown || code == codes.Unavailable || code == codes.DeadlineExceeded) {
			return fmt.Errorf("cannot reach Milvus at MILVUS_URI=%s: %w; is it running? nox -s up starts the stack", s.URI, err)
		}
		return err
	})

	var exists bool
	r.step("has_collection", func(ctx context.Context) (err error) {
		exists, err = c.HasCollection(ctx, milvusclient.NewHasCollectionOption(d.Collection))
		return err
	})
	if exists {
		r.step("drop_existing", func(ctx context.Context) error {
			return c.DropCollection(ctx, milvusclient.NewDropCollectionOption(d.Collection))
		})
	}

	r.step("create_collection", func(ctx context.Context) error {
		return c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption(d.Collection, d.schema()))
	})

	r.step("insert", func(ctx context.Context) error {
		ids := make([]int64, d.Rows)
		vectors := make([][]float32, d.Rows)
		for i := range d.Rows {
			ids[i], vectors[i] = int64(i), d.Vector(i)
		}
		_, err := c.Insert(ctx, milvusclient.NewColumnBasedInsertOption(d.Collection,
			column.NewColumnInt64(d.IDField, ids),
			column.NewColumnFloatVector(d.VectorField, d.Dimension, vectors)))
		return err
	})

	r.step("flush", func(ctx context.Context) error {
		task, err := c.Flush(ctx, milvusclient.NewFlushOption(d.Collection))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("create_index", func(ctx context.Context) error {
		task, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption(d.Collection, d.VectorField, d.index()))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("load", func(ctx context.Context) error {
		task, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(d.Collection))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("search", func(ctx context.Context) error {
		results, err := search(ctx, c, d, d.consistency)
		if err != nil {
			return err
		}
		if len(results) != 1 || results[0].ResultCount != d.TopK {
			return fmt.Errorf("want %d hits, got %v", d.TopK, hitCounts(results))
		}
		return nil
	})

	r.step("query", func(ctx context.Context) error {
		rs, err := query(ctx, c, d, d.consistency)
		if err == nil {
			log.Printf("query: %d rows", rs.ResultCount)
		}
		return err
	})

	if h.BenchRepeat > 0 {
		r.step("bench", func(ctx context.Context) (err error) {
			bench, benchCPU, err = h.HotPath(ctx, []harness.Call{
				{RPC: "Search", Do: func(ctx context.Context) error { _, err := search(ctx, c, d, d.benchConsistency); return err }},
				{RPC: "Query", Do: func(ctx context.Context) error { _, err := query(ctx, c, d, d.benchConsistency); return err }},
			})
			return err
		})
	}

	r.step("delete", func(ctx context.Context) error {
		_, err := c.Delete(ctx, milvusclient.NewDeleteOption(d.Collection).WithExpr(d.DeleteFilter))
		return err
	})

	r.expectFailure("expected_failure", func(ctx context.Context) error {
		_, err := c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(d.MissingCollection))
		return err
	})

	r.step("drop_collection", func(ctx context.Context) error {
		return c.DropCollection(ctx, milvusclient.NewDropCollectionOption(d.Collection))
	})

	if c != nil {
		r.final("close", c.Close)
	}
	return bench, benchCPU
}

// schema: the primary key (INT64, not auto) and the float vector.
func (d Data) schema() *entity.Schema {
	return entity.NewSchema().WithName(d.Collection).
		WithField(entity.NewField().WithName(d.IDField).WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true).WithIsAutoID(false)).
		WithField(entity.NewField().WithName(d.VectorField).WithDataType(entity.FieldTypeFloatVector).WithDim(int64(d.Dimension)))
}

// index is the vector index of the scenario, any type Milvus knows by name.
func (d Data) index() index.Index {
	return index.NewGenericIndex("", map[string]string{index.IndexTypeKey: d.IndexType, index.MetricTypeKey: d.MetricType})
}

func search(ctx context.Context, c *milvusclient.Client, d Data, level entity.ConsistencyLevel) ([]milvusclient.ResultSet, error) {
	return c.Search(ctx, milvusclient.NewSearchOption(d.Collection, d.TopK, []entity.Vector{entity.FloatVector(d.Vector(d.SearchID))}).
		WithANNSField(d.VectorField).
		WithConsistencyLevel(level))
}

func query(ctx context.Context, c *milvusclient.Client, d Data, level entity.ConsistencyLevel) (milvusclient.ResultSet, error) {
	return c.Query(ctx, milvusclient.NewQueryOption(d.Collection).
		WithFilter(d.QueryFilter).
		WithOutputFields(d.IDField).
		WithConsistencyLevel(level))
}

func hitCounts(results []milvusclient.ResultSet) []int {
	counts := make([]int, len(results))
	for i, rs := range results {
		counts[i] = rs.ResultCount
	}
	return counts
}
