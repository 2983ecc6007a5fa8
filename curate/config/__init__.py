"""Pipeline definitions: the YAML (or dict) config validated into stages and settings."""
