"""The local runtime: API Gateway and the Streams event source mapping, imitated on one machine."""
