"""Executors run a list of stages over inputs: a streaming pipe, or a parallel local run."""
