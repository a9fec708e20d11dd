"""Benchmarks: DynamoDB round trips, cold-start imports and latency ratios, written to bench/README.md."""
