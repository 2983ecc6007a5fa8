"""Core types and helpers every layer may use: errors, record fields and paths, bounded
patterns and globs, YAML with line numbers, limits, progress on stderr, the version."""
