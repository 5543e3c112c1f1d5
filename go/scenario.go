package main

import (
	"context"
	"fmt"
	"log"
	"syscall"
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

// runScenario runs the steps of conformance/SCENARIO.md against the Milvus at
// s.uri and returns the hot path's latencies when s.benchRepeat > 0.
func runScenario(r *runner, s settings) (bench map[string][]float64, benchCPU float64) {
	var c *milvusclient.Client
	r.step("connect", func(ctx context.Context) (err error) {
		// The client dials with grpc.WithBlock: fail fast if nothing listens.
		ctx, cancel := context.WithTimeout(ctx, connectTimeout)
		defer cancel()
		var dialOptions []grpc.DialOption
		if s.traced {
			// Since client v2.6.4 these extend DefaultGrpcOpts; before, they replaced them.
			dialOptions = append(dialOptions, grpc.WithStatsHandler(otelgrpc.NewClientHandler()))
		}
		c, err = milvusclient.New(ctx, &milvusclient.ClientConfig{Address: s.uri, DialOptions: dialOptions})
		if err != nil {
			return fmt.Errorf("%s: %w", s.uri, err)
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
		results, err := search(ctx, c, entity.ClStrong)
		if err != nil {
			return err
		}
		if len(results) != 1 || results[0].ResultCount != topK {
			return fmt.Errorf("want %d hits, got %v", topK, hitCounts(results))
		}
		return nil
	})

	r.step("query", func(ctx context.Context) error {
		rs, err := query(ctx, c, entity.ClStrong)
		if err == nil {
			log.Printf("query: %d rows", rs.ResultCount)
		}
		return err
	})

	if s.benchRepeat > 0 {
		r.step("bench", func(ctx context.Context) (err error) {
			bench, benchCPU, err = hotPath(ctx, c, s.benchRepeat)
			return err
		})
	}

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
	return bench, benchCPU
}

func search(ctx context.Context, c *milvusclient.Client, level entity.ConsistencyLevel) ([]milvusclient.ResultSet, error) {
	return c.Search(ctx, milvusclient.NewSearchOption(collection, topK, []entity.Vector{entity.FloatVector(vectorFor(0))}).
		WithANNSField("vector").
		WithConsistencyLevel(level))
}

func query(ctx context.Context, c *milvusclient.Client, level entity.ConsistencyLevel) (milvusclient.ResultSet, error) {
	return c.Query(ctx, milvusclient.NewQueryOption(collection).
		WithFilter("id in [10, 11, 12]").
		WithOutputFields("id").
		WithConsistencyLevel(level))
}

// hotPath runs search and query repeat times each, with consistency Bounded
// (Strong waits for Milvus's next time tick, ~200 ms, on every call), and
// returns each call's client-side latency in ms, and the CPU time the process
// spent meanwhile (all goroutines, the exporter's included) in ms.
func hotPath(ctx context.Context, c *milvusclient.Client, repeat int) (map[string][]float64, float64, error) {
	calls := []struct {
		rpc  string
		call func() error
	}{
		{"Search", func() error { _, err := search(ctx, c, entity.ClBounded); return err }},
		{"Query", func() error { _, err := query(ctx, c, entity.ClBounded); return err }},
	}
	latencies := map[string][]float64{}
	cpuStart := processCPU()
	for range repeat {
		for _, call := range calls {
			start := time.Now()
			if err := call.call(); err != nil {
				return nil, 0, fmt.Errorf("%s: %w", call.rpc, err)
			}
			latencies[call.rpc] = append(latencies[call.rpc], float64(time.Since(start).Microseconds())/1000)
		}
	}
	return latencies, float64((processCPU() - cpuStart).Microseconds()) / 1000, nil
}

// processCPU is the user + system CPU time of the whole process so far.
func processCPU() time.Duration {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return 0
	}
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano())
}

func hitCounts(results []milvusclient.ResultSet) []int {
	counts := make([]int, len(results))
	for i, rs := range results {
		counts[i] = rs.ResultCount
	}
	return counts
}
