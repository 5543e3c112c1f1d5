package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/milvus-io/milvus/client/v2/column"
	"github.com/milvus-io/milvus/client/v2/entity"
	"github.com/milvus-io/milvus/client/v2/index"
	"github.com/milvus-io/milvus/client/v2/milvusclient"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"google.golang.org/grpc"
)

const (
	collection        = "otel_demo_go"
	missingCollection = "otel_demo_does_not_exist"
	dim               = 8
	rows              = 100
	topK              = 5
	connectTimeout    = 30 * time.Second
)

// vectorFor is the scenario's deterministic vector for a row id:
// vector[j] = ((id*8 + j) % 97) / 97.
func vectorFor(id int) []float32 {
	v := make([]float32, dim)
	for j := range v {
		v[j] = float32(float64((id*dim+j)%97) / 97.0)
	}
	return v
}

func schema() *entity.Schema {
	return entity.NewSchema().WithName(collection).
		WithField(entity.NewField().WithName("id").WithDataType(entity.FieldTypeInt64).WithIsPrimaryKey(true).WithIsAutoID(false)).
		WithField(entity.NewField().WithName("vector").WithDataType(entity.FieldTypeFloatVector).WithDim(dim))
}

// runScenario runs the steps of conformance/SCENARIO.md against the Milvus at uri.
func runScenario(r *runner, uri string) {
	var c *milvusclient.Client
	r.step("connect", func(ctx context.Context) (err error) {
		// The client dials with grpc.WithBlock: fail fast if nothing listens.
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		c, err = milvusclient.New(ctx, &milvusclient.ClientConfig{Address: uri, DialOptions: []grpc.DialOption{
			// Since client v2.6.4 these extend DefaultGrpcOpts; before, they replaced them.
			grpc.WithStatsHandler(otelgrpc.NewClientHandler()),
		}})
		if err != nil {
			return fmt.Errorf("%s: %w", uri, err)
		}
		return nil
	})

	var exists bool
	r.step("has_collection", func(ctx context.Context) (err error) {
		exists, err = c.HasCollection(ctx, milvusclient.NewHasCollectionOption(collection))
		return err
	})
	if exists {
		r.step("drop_existing", func(ctx context.Context) error {
			return c.DropCollection(ctx, milvusclient.NewDropCollectionOption(collection))
		})
	}

	r.step("create_collection", func(ctx context.Context) error {
		return c.CreateCollection(ctx, milvusclient.NewCreateCollectionOption(collection, schema()))
	})

	r.step("insert", func(ctx context.Context) error {
		ids := make([]int64, rows)
		vectors := make([][]float32, rows)
		for i := range rows {
			ids[i], vectors[i] = int64(i), vectorFor(i)
		}
		_, err := c.Insert(ctx, milvusclient.NewColumnBasedInsertOption(collection,
			column.NewColumnInt64("id", ids),
			column.NewColumnFloatVector("vector", dim, vectors)))
		return err
	})

	r.step("flush", func(ctx context.Context) error {
		task, err := c.Flush(ctx, milvusclient.NewFlushOption(collection))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("create_index", func(ctx context.Context) error {
		task, err := c.CreateIndex(ctx, milvusclient.NewCreateIndexOption(collection, "vector", index.NewFlatIndex(entity.L2)))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("load", func(ctx context.Context) error {
		task, err := c.LoadCollection(ctx, milvusclient.NewLoadCollectionOption(collection))
		if err != nil {
			return err
		}
		return task.Await(ctx)
	})

	r.step("search", func(ctx context.Context) error {
		results, err := c.Search(ctx, milvusclient.NewSearchOption(collection, topK,
			[]entity.Vector{entity.FloatVector(vectorFor(0))}).
			WithANNSField("vector").
			WithConsistencyLevel(entity.ClStrong))
		if err != nil {
			return err
		}
		if len(results) != 1 || results[0].ResultCount != topK {
			return fmt.Errorf("want %d hits, got %v", topK, hitCounts(results))
		}
		return nil
	})

	r.step("query", func(ctx context.Context) error {
		rs, err := c.Query(ctx, milvusclient.NewQueryOption(collection).
			WithFilter("id in [10, 11, 12]").
			WithOutputFields("id").
			WithConsistencyLevel(entity.ClStrong))
		if err == nil {
			log.Printf("query: %d rows", rs.ResultCount)
		}
		return err
	})

	r.step("delete", func(ctx context.Context) error {
		_, err := c.Delete(ctx, milvusclient.NewDeleteOption(collection).WithExpr("id in [0, 1, 2, 3, 4]"))
		return err
	})

	r.expectFailure("expected_failure", func(ctx context.Context) error {
		_, err := c.DescribeCollection(ctx, milvusclient.NewDescribeCollectionOption(missingCollection))
		return err
	})

	r.step("drop_collection", func(ctx context.Context) error {
		return c.DropCollection(ctx, milvusclient.NewDropCollectionOption(collection))
	})

	if c != nil {
		r.final("close", c.Close)
	}
}

func hitCounts(results []milvusclient.ResultSet) []int {
	counts := make([]int, len(results))
	for i, rs := range results {
		counts[i] = rs.ResultCount
	}
	return counts
}
