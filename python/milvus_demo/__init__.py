"""The Milvus scenario traced with OpenTelemetry; the approaches differ only in their setup."""
