"""Benchmark decontamination: n-gram indexes of evaluation sets."""
