"""Deduplication internals shared by the exact and near dedup stages."""
