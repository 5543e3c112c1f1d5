package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/milvus-io/milvus/client/v2/entity"
)

// Data is the "data" section of conformance/scenario.json: what the scenario
// creates, inserts and asks for.
type Data struct {
	IDField           string `json:"id_field"`
	VectorField       string `json:"vector_field"`
	Dimension         int    `json:"dimension"`
	Rows              int    `json:"rows"`
	VectorModulus     int    `json:"vector_modulus"`
	IndexType         string `json:"index_type"`
	MetricType        string `json:"metric_type"`
	SearchID          int    `json:"search_id"`
	TopK              int    `json:"top_k"`
	QueryFilter       string `json:"query_filter"`
	DeleteFilter      string `json:"delete_filter"`
	Consistency       string `json:"consistency"`
	BenchConsistency  string `json:"bench_consistency"`
	MissingCollection string `json:"missing_collection"`

	Collection       string                  `json:"-"` // collection_prefix + go_<approach>
	consistency      entity.ConsistencyLevel // Consistency, parsed
	benchConsistency entity.ConsistencyLevel // BenchConsistency, parsed
}

var consistencyLevels = map[string]entity.ConsistencyLevel{
	"Strong":     entity.ClStrong,
	"Bounded":    entity.ClBounded,
	"Session":    entity.ClSession,
	"Eventually": entity.ClEventually,
}

// LoadData reads the scenario file at path and names the approach's collection.
func LoadData(path, approach string) (Data, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Data{}, fmt.Errorf("scenario: %w", err)
	}
	var file struct {
		CollectionPrefix string `json:"collection_prefix"`
		Data             *Data  `json:"data"`
	}
	if err := json.Unmarshal(raw, &file); err != nil {
		return Data{}, fmt.Errorf("scenario %s: %w", path, err)
	}
	if file.Data == nil || file.CollectionPrefix == "" {
		return Data{}, fmt.Errorf("scenario %s: no collection_prefix or data section", path)
	}
	d := *file.Data
	d.Collection = CollectionName(file.CollectionPrefix, approach)
	if err := d.check(); err != nil {
		return Data{}, fmt.Errorf("scenario %s: %w", path, err)
	}
	return d, nil
}

// CollectionName is collection_prefix + language + "_" + approach, with "-" as "_".
func CollectionName(prefix, approach string) string {
	return strings.ReplaceAll(prefix+language+"_"+approach, "-", "_")
}

// check validates the data and parses the consistency levels.
func (d *Data) check() error {
	var errs []error
	for _, f := range []struct{ name, v string }{{"id_field", d.IDField}, {"vector_field", d.VectorField},
		{"index_type", d.IndexType}, {"metric_type", d.MetricType}, {"query_filter", d.QueryFilter},
		{"delete_filter", d.DeleteFilter}, {"missing_collection", d.MissingCollection}} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("data.%s is missing", f.name))
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"dimension", d.Dimension}, {"rows", d.Rows}, {"vector_modulus", d.VectorModulus}, {"top_k", d.TopK}} {
		if f.v <= 0 {
			errs = append(errs, fmt.Errorf("data.%s = %d, want > 0", f.name, f.v))
		}
	}
	if d.SearchID < 0 || d.SearchID >= d.Rows {
		errs = append(errs, fmt.Errorf("data.search_id = %d, want an inserted id", d.SearchID))
	}
	var ok bool
	if d.consistency, ok = consistencyLevels[d.Consistency]; !ok {
		errs = append(errs, fmt.Errorf("data.consistency = %q, want Strong, Bounded, Session or Eventually", d.Consistency))
	}
	if d.benchConsistency, ok = consistencyLevels[d.BenchConsistency]; !ok {
		errs = append(errs, fmt.Errorf("data.bench_consistency = %q, want Strong, Bounded, Session or Eventually", d.BenchConsistency))
	}
	return errors.Join(errs...)
}

// Vector is the scenario's deterministic vector for a row id:
// vector[j] = ((id*dimension + j) % vector_modulus) / vector_modulus.
func (d Data) Vector(id int) []float32 {
	v := make([]float32, d.Dimension)
	for j := range v {
		v[j] = float32(float64((id*d.Dimension+j)%d.VectorModulus) / float64(d.VectorModulus))
	}
	return v
}
