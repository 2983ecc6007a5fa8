"""Bounds that keep a careless or hostile config from exhausting the machine."""

from __future__ import annotations

MAX_WORKERS = 256  # worker processes of one run
MAX_YAML_NODES = 200_000  # values a YAML file may expand to (aliases included)
MAX_GLOB_ALTERNATIVES = 256  # {a,b} expansions of one glob
