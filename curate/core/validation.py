"""Turn pydantic validation errors into short, user-facing problems with their key path."""

from __future__ import annotations

import difflib
from typing import get_args

from pydantic import BaseModel, ValidationError

from curate.core.yamlconf import Loc


def describe_error(err: dict) -> str:
    """One pydantic error -> a plain sentence ('expected one of none, whitespace, lower')."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        options = [o.strip().strip("'") for o in expected.replace(" or ", ", ").split(",")]
        return f"expected one of {', '.join(o for o in options if o)}"
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "expected an integer"
    if kind in ("float_parsing", "float_type"):
        return "expected a number"
    if kind in ("bool_parsing", "bool_type"):
        return "expected true or false"
    if kind in ("string_type",):
        return "expected a string"
    if kind in ("list_type",):
        return "expected a list"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return "expected a mapping"
    if kind == "greater_than_equal":
        return f"must be >= {ctx.get('ge')}"
    if kind == "greater_than":
        return f"must be > {ctx.get('gt')}"
    if kind == "less_than_equal":
        return f"must be <= {ctx.get('le')}"
    if kind == "less_than":
        return f"must be < {ctx.get('lt')}"
    if kind == "too_short":
        return f"must have at least {ctx.get('min_length')} item(s)"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return err["msg"][0].lower() + err["msg"][1:]


def first_error(
    exc: ValidationError, prefix: Loc = (), model: type | None = None
) -> tuple[Loc, str]:
    """The first error of a validation failure as (key path, problem); with the `model` that
    was validated, an unknown key gets the closest known one ("did you mean 'min_chars'?")."""
    err = exc.errors()[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    problem = describe_error(err)
    if err["type"] == "extra_forbidden" and model is not None and loc:
        known = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        if close:
            problem += f" (did you mean {close[0]!r}?)"
    return prefix + loc, problem


def _keys_at(model: type, loc: Loc) -> list[str]:
    """The keys the (nested) model accepts at `loc`."""
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not fields or part not in fields:
            return []
        candidates = [
            a
            for a in (*get_args(fields[part].annotation), fields[part].annotation)
            if isinstance(a, type) and issubclass(a, BaseModel)
        ]
        if not candidates:
            return []
        model = candidates[0]
    return list(getattr(model, "model_fields", {}))
