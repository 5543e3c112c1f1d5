// Package demo runs the scenario of conformance/SCENARIO.md with the Milvus Go
// client and writes its run record. It knows nothing about how the calls are
// traced: each approach (cmd/<approach>) hands it a [Tracing] — a tracer
// provider and the gRPC dial options that instrument the client — and calls
// [Main].
package demo
