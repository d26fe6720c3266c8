"""The calls a student's function receives while the instructor's tests run, recorded as data.

`trusted_run` gives the tests a `RecordedFunction` for each exercise: before each call it takes
a deep copy of the arguments, and after it keeps what came back (the returned value, the
exception, the warnings, and the arguments as the call left them), as comparable data (`plain`,
`same`). Diagnosis replays those calls (`instructor.diagnosis.replay`); recording never changes
what the tests see.
"""

from __future__ import annotations

import copy
import sys
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from instructor.infrastructure.sandbox import SandboxError, StudentFunction
from instructor.infrastructure.sandbox.mirror import state_of

MAX_CALLS = 60  # calls recorded per function: enough evidence, bounded cost
MAX_DEPTH = 16
_KINDS = {"b": "bool", "i": "int", "u": "int", "f": "real", "c": "complex"}


# ---- what a call did, as comparable data -----------------------------------------------------
@dataclass(frozen=True)
class _Num:
    """A number or numeric array: its kind (bool, int, real, complex) and its values."""

    kind: str
    values: np.ndarray


@dataclass(frozen=True)
class _Tagged:
    """The state of a tensor, module or random generator."""

    tag: str
    state: Any


class _Never:
    """A value that is not plain data: equal to nothing, itself included."""

    def __init__(self, name: str):
        self.name = name


def plain(value: Any, depth: int = 0) -> Any:
    """`value` as comparable data: numbers and numeric arrays as `_Num`, lists and tuples as
    tuples, dicts as dicts, None and strings as they are, the states of tensors, modules and
    generators (as `instructor.infrastructure.sandbox.mirror` carries them) as `_Tagged`, anything
    else as `_Never`. Always a copy."""
    if depth > MAX_DEPTH:
        return _Never("too deep")
    if value is None or type(value) is str:
        return value
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return _Tagged("tensor", plain(value.detach().cpu().resolve_conj().numpy(), depth + 1))
    if torch is not None and isinstance(value, torch.nn.Module):
        return _Tagged("module", plain(state_of(value), depth + 1))
    if isinstance(value, np.random.Generator):
        return _Tagged("rng", plain(value.bit_generator.state, depth + 1))
    if type(value) is int and not -(2**63) <= value < 2**63:  # a generator's 128-bit state
        return _Tagged("big int", value)
    if isinstance(value, bool | int | float | complex | np.generic | np.ndarray):
        array = np.array(value)
        kind = _KINDS.get(array.dtype.kind)
        return _Num(kind, array) if kind else _Never(f"array of {array.dtype}")
    if type(value) in (list, tuple):
        return tuple(plain(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    return _Never(type(value).__name__)


def _tolerance(dtype: np.dtype) -> tuple[float, float]:
    return (1e-9, 1e-12) if np.finfo(dtype).bits >= 64 else (1e-5, 1e-7)


def _close(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "biu":
        return bool(np.array_equal(a, b))
    rtol, atol = max(_tolerance(a.dtype), _tolerance(b.dtype))
    with np.errstate(all="ignore"):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def same(a: Any, b: Any) -> bool:
    """Whether two `plain` values are the same data (see the module docstring)."""
    if type(a) is not type(b) or isinstance(a, _Never):
        return False
    if isinstance(a, _Num):
        return a.kind == b.kind and _close(a.values, b.values)
    if isinstance(a, _Tagged):
        return a.tag == b.tag and same(a.state, b.state)
    if isinstance(a, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


@dataclass
class Behaviour:
    """What one call did: its result or exception, its warnings, and its arguments after it
    (as `instructor.infrastructure.sandbox.mirror` carries in-place changes back)."""

    returned: Any = None
    raised: tuple[str, str] | None = None
    warned: frozenset[str] = frozenset()
    after: Any = None

    def agrees(self, other: Behaviour) -> bool:
        if self.raised is not None or other.raised is not None:
            return self.raised == other.raised
        return (
            self.warned == other.warned
            and same(self.returned, other.returned)
            and same(self.after, other.after)
        )


def exception_key(error: BaseException, message: str | None = None) -> tuple[str, str]:
    """(class name, message) of an exception, as a sandbox reports it."""
    text = str(error) if message is None else message
    return type(error).__name__, text[:1000]


def arguments_after(args: tuple, kwargs: dict) -> Any:
    """The arguments of a call as it left them, as `plain` data."""
    return plain([state_of(a) for a in (*args, *kwargs.values())])


def snapshot(args: tuple, kwargs: dict) -> tuple[tuple, dict] | None:
    """A deep copy of a call's arguments, or None when they cannot be copied."""
    try:
        return copy.deepcopy((args, kwargs))
    except Exception:  # an object that refuses copying (a non-leaf tensor, a socket, ...)
        return None


@dataclass
class Call:
    """One recorded call of a student's function: its arguments before it (None when they could
    not be copied) and what the student's code did."""

    function: str
    before: tuple[tuple, dict] | None
    behaviour: Behaviour


class RecordedFunction(StudentFunction):
    """A `StudentFunction` that records each call (up to MAX_CALLS) into `log`. Timeouts and
    dead processes are not recorded: they say nothing about the mistake."""

    def __init__(
        self,
        sandbox: Any,
        name: str,
        code: Any = None,
        aliases: dict[str, Any] | None = None,
        log: list[Call] | None = None,
    ):
        super().__init__(sandbox, name, code, aliases)
        self.log = log if log is not None else []

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if len(self.log) >= MAX_CALLS:
            return super().__call__(*args, **kwargs)
        before = snapshot(args, kwargs)
        error: Exception | None = None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = super().__call__(*args, **kwargs)
            except Exception as raised:  # noqa: BLE001 (re-raised below, after the warnings)
                error = raised
        for warning in caught:  # as if not recorded here: the checks see them
            warnings.warn(warning.message, stacklevel=2)
        if error is not None:
            if not isinstance(error, SandboxError):
                message = str(error.args[0]) if error.args else ""
                self.log.append(
                    Call(self.__name__, before, Behaviour(raised=exception_key(error, message)))
                )
            raise error
        self.log.append(
            Call(
                self.__name__,
                before,
                Behaviour(
                    plain(result),
                    None,
                    frozenset(w.category.__name__ for w in caught),
                    arguments_after(args, kwargs),
                ),
            )
        )
        return result
