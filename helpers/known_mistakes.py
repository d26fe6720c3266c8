"""Naming a known mistake in a visible check, with nothing to install and no server.

When a visible check fails, what the student's function returned on the check's inputs (its
*trace*: one entry per call `checks.call` made, in order) is compared with what each known
mistake of the course's catalogue returns on the same inputs. The catalogue itself is instructor
material and never ships; what ships, in `helpers/data/known_mistakes.json` (written by
`rnn-course release`), is for each mistake and each of two roundings:

- a *tag*: a hash of the rounded trace, which tells whether a trace is that mistake's, and
  cannot be turned back into the trace (let alone into the right answer, which it never held);
- a *sealed* note: the mistake's description and hint, encrypted with a key derived from the
  same rounded trace, so only a function that computes what the mistake computes opens it.

Two roundings (4 and 6 significant digits) keep a match when float noise from another CPU moves
a value across one rounding's boundary. This module holds no exercise's answer and no wrong
implementation: only the trace's canonical form and the sealing.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

ROUNDINGS = (4, 6)  # significant digits
ZERO = 1e-12  # |x| below this is written as 0 (float noise around an exact zero)
DATA = Path(__file__).parent / "data" / "known_mistakes.json"
_DOMAIN = b"rnn-course known mistake v1\0"
_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _number(x: float, digits: int) -> str:
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    if abs(x) < ZERO:
        return "0"
    return f"{x:.{digits - 1}e}"


def canonical(value: Any, digits: int) -> str:
    """A text form of a returned value, rounded to `digits` significant digits: arrays as their
    shape and entries, containers recursively (dicts by sorted key), other objects by type."""
    if isinstance(value, bool | np.bool_) or value is None or isinstance(value, str):
        return repr(value if not isinstance(value, np.bool_) else bool(value))
    if isinstance(value, int | float | np.integer | np.floating):
        return _number(float(value), digits)
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        flat = ",".join(_number(float(x), digits) for x in value.reshape(-1))
        return f"array{tuple(value.shape)}[{flat}]"
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
        return canonical(np.asarray(value.detach().cpu().numpy(), dtype=np.float64), digits)
    if isinstance(value, list | tuple):
        return "(" + ";".join(canonical(v, digits) for v in value) + ")"
    if isinstance(value, Mapping):
        items = sorted(value.items(), key=lambda kv: repr(kv[0]))
        return "{" + ";".join(f"{k!r}:{canonical(v, digits)}" for k, v in items) + "}"
    return f"<{type(value).__name__}>"


def raised(error: BaseException) -> str:
    """The trace entry of a call that raised instead of returning."""
    return f"raised {type(error).__name__}"


def _material(exercise: str, trace: Iterable[str]) -> bytes:
    text = "\x1e".join([exercise, *trace]).encode()
    return hashlib.sha256(_DOMAIN + text).digest()


def _tag(material: bytes) -> str:
    return hashlib.sha256(b"tag\0" + material).hexdigest()[:32]


def _keystream(material: bytes, size: int) -> bytes:
    return hashlib.shake_256(b"key\0" + material).digest(size)


@dataclass(frozen=True)
class Named:
    """A known mistake a trace matched: its catalogue id, description and hint."""

    id: str
    description: str
    hint: str

    def text(self, exercise: str) -> str:
        """The lines a failed visible check adds to its message."""
        return (
            f"\n  known mistake: your `{exercise}` behaves like a known mistake: "
            f"{self.description}.\n  where to look: {self.hint}"
        )


def seal(exercise: str, traces: Mapping[int, list[str]], named: Named) -> list[dict[str, str]]:
    """One mistake's entries for the data file: per rounding, the tag of its trace and its note
    sealed with that trace. traces: digits -> the mistake's trace rounded to them."""
    note = json.dumps(
        {"id": named.id, "description": named.description, "hint": named.hint}
    ).encode()
    entries = []
    for digits in ROUNDINGS:
        material = _material(exercise, traces[digits])
        box = bytes(a ^ b for a, b in zip(note, _keystream(material, len(note)), strict=True))
        entries.append({"tag": _tag(material), "box": base64.b64encode(box).decode()})
    return entries


def unseal(exercise: str, traces: Mapping[int, list[str]], entries: list[dict]) -> Named | None:
    """The known mistake whose entry a trace opens, or None."""
    for digits in ROUNDINGS:
        material = _material(exercise, traces[digits])
        tag = _tag(material)
        for entry in entries:
            if entry.get("tag") == tag:
                box = base64.b64decode(entry["box"])
                note = bytes(
                    a ^ b for a, b in zip(box, _keystream(material, len(box)), strict=True)
                )
                found = json.loads(note)
                return Named(found["id"], found["description"], found["hint"])
    return None


@cache
def _data() -> dict:
    try:
        data = json.loads(DATA.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _table() -> dict[str, list[dict]]:
    """Exercise -> its known mistakes' entries (`seal`)."""
    return _data().get("exercises", {})


def exercises_defined(namespace: Mapping[str, Any]) -> list[str]:
    """The exercises of the notebook whose exercise functions `namespace` defines (a kernel's
    globals), in the notebook's order; [] when it matches none."""
    for exercises in _data().get("notebooks", {}).values():
        if exercises and all(callable(namespace.get(name)) for name in exercises):
            return list(exercises)
    return []


class Trace:
    """What a student's function returned during one visible check of one exercise, in every
    rounding (`checks.call` records; `checks.fail` asks `name`)."""

    def __init__(self) -> None:
        self.entries: dict[int, list[str]] = {digits: [] for digits in ROUNDINGS}

    def returned(self, value: Any) -> None:
        for digits in ROUNDINGS:
            self.entries[digits].append(canonical(value, digits))

    def raised(self, error: BaseException) -> None:
        for digits in ROUNDINGS:
            self.entries[digits].append(raised(error))

    def failed(self, problem: str, returned: str = "") -> None:
        """The check failed, finding `problem` (its message's first line) in what it printed as
        `returned` (whose numbers are rounded like returned values)."""
        shown = _NUMBER.sub(lambda m: _number(float(m.group()), 3), returned)
        for digits in ROUNDINGS:
            self.entries[digits].append(f"failed: {problem} | {shown}")

    def name(self, exercise: str) -> Named | None:
        """The known mistake this trace is, if the shipped table knows one."""
        entries = _table().get(exercise)
        return unseal(exercise, self.entries, entries) if entries else None
