"""Opt-out registry: owners ask to be removed; every build applies it and keeps proof."""
