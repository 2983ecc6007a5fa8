"""Reading and writing JSON-lines records: format detection, zstd/gzip, shards, atomic writes."""
