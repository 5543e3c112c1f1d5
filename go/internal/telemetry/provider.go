// Package telemetry builds the OpenTelemetry SDK tracer provider that every Go
// approach uses: spans are exported over OTLP/gRPC in batches, configured by
// the standard OTEL_* variables (endpoint, timeout, batch settings).
package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// NewTracerProvider returns an SDK tracer provider for serviceName. The SDK
// reads OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_BSP_*,
// OTEL_RESOURCE_ATTRIBUTES and OTEL_SERVICE_NAME (which wins over serviceName).
// It does not read OTEL_SDK_DISABLED: the caller does.
func NewTracerProvider(ctx context.Context, serviceName string) (*sdktrace.TracerProvider, error) {
	exporter, err := otlptracegrpc.New(ctx)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(serviceName)))
	if err == nil {
		res, err = resource.Merge(res, resource.Environment())
	}
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res)), nil
}
