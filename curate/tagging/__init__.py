"""Subset and language tagging: declarative rules and a language table."""
