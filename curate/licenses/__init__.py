"""SPDX license expressions: parsing, normalising and judging them against a policy."""
