"""Argument checks shared by the helpers: each raises a ValueError saying what to pass instead."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np


def is_integer(value: object) -> bool:
    """Whether `value` is an integer: a Python or numpy integer (`numbers.Integral`), or a float
    with no fractional part; never a bool (numpy's `np.bool_` included)."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, numbers.Integral):
        return True
    return isinstance(value, float) and value.is_integer()


def positive_int(
    name: str, value: object, minimum: int = 1, maximum: int | None = None, why: str = ""
) -> int:
    """Return `value` as an int if it is an integer (`is_integer`) >= minimum (and <= maximum
    when given), else raise a clear ValueError; `why` is added to its message in parentheses."""
    if not is_integer(value) or value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
        reason = f" ({why})" if why else ""
        raise ValueError(f"{name} must be an integer {bound}{reason}, got {value!r}")
    return int(value)


def one_of(name: str, value: object, allowed: Iterable[str]) -> str:
    """Return `value` if it is one of `allowed`, else raise a ValueError listing the choices."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value  # type: ignore[return-value]


def number(
    name: str, value: object, *, positive: bool = False, minimum: float | None = None
) -> float:
    """Return `value` as a float if it is a finite real number (not a bool; numpy scalars
    count), > 0 when `positive`, >= `minimum` when given; else raise a clear ValueError."""
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and math.isfinite(value)
        and (not positive or value > 0)
        and (minimum is None or value >= minimum)
    )
    if not ok:
        kind = "a positive finite number" if positive else "a finite number"
        bound = f" >= {minimum:g}" if minimum is not None else ""
        raise ValueError(f"{name} must be {kind}{bound}, got {value!r}")
    return float(value)
