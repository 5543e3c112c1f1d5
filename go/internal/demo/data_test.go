package demo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/milvus-otel-demo/go/internal/harness"
	"github.com/milvus-io/milvus/client/v2/entity"
)

func testData() Data {
	return Data{Dimension: 8, Rows: 100, VectorModulus: 97}
}

func TestVector(t *testing.T) {
	d := testData()
	v0 := d.Vector(0)
	if len(v0) != d.Dimension {
		t.Fatalf("len = %d, want %d", len(v0), d.Dimension)
	}
	for j, x := range v0 {
		if want := float32(float64(j) / 97); x != want {
			t.Errorf("Vector(0)[%d] = %v, want %v", j, x, want)
		}
	}
	// id 12: 12*8 = 96, so the sequence wraps modulo 97 after the first element.
	if v := d.Vector(12); v[0] != float32(96.0/97) || v[1] != 0 || v[2] != float32(1.0/97) {
		t.Errorf("Vector(12) = %v, want [96/97 0 1/97 ...]", v)
	}
}

func TestCollectionName(t *testing.T) {
	for approach, want := range map[string]string{"otelgrpc": "otel_demo_go_otelgrpc", "grpc-otel": "otel_demo_go_grpc_otel"} {
		if got := CollectionName("otel_demo_", approach); got != want {
			t.Errorf("CollectionName(%q) = %q, want %q", approach, got, want)
		}
	}
}

// The repository's scenario.json, the harness's default, is the source of the data.
func TestLoadDataFromTheRepository(t *testing.T) {
	h, _ := harness.FromEnv("grpc-otel", func(string) string { return "" })
	d, err := LoadData(filepath.Join("..", "..", h.ScenarioPath), "grpc-otel")
	if err != nil {
		t.Fatal(err)
	}
	if d.Collection != "otel_demo_go_grpc_otel" || d.Dimension <= 0 || d.consistency != entity.ClStrong {
		t.Errorf("data = %+v", d)
	}
}

func TestLoadDataErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"no data":      `{"collection_prefix": "p_"}`,
		"not json":     `{`,
		"bad values":   `{"collection_prefix": "p_", "data": {"dimension": 0, "consistency": "Sometimes"}}`,
		"no such file": "",
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
		if content != "" {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := LoadData(path, "a"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
