"""A safe wire format for values that come back from student code.

Student code runs in another process (`instructor.infrastructure.sandbox`). What it returns crosses
back as JSON holding plain values and the raw bytes of numeric arrays, and is rebuilt here from
scratch: never unpickled, so no student object, method or comparison operator reaches the grader. A
value that is not plain data (a custom class, say) arrives as an `Opaque` stand-in that only carries
its type's name.
"""

from __future__ import annotations

import base64
import json
import math
import re
import sys
from typing import Any

import numpy as np

MAX_DEPTH = 32
NUMERIC_KINDS = "biufc"


class DecodeError(ValueError):
    """The bytes are not a value this codec writes."""


class Opaque:
    """Stands in for a returned object that is not plain data; compares equal to nothing."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object>"


def _opaque(type_name: str) -> Opaque:
    name = re.sub(r"\W", "_", type_name)[:60] or "object"
    if not name[0].isalpha():
        name = "object_" + name
    return type(name, (Opaque,), {"__slots__": ()})()


def _array_to_json(array: np.ndarray) -> dict:
    base = np.array(np.asarray(array).view(np.ndarray), order="C")  # keeps 0-d arrays 0-d
    if base.dtype.kind not in NUMERIC_KINDS or base.dtype.fields is not None:
        return {"o": f"ndarray[{base.dtype.str}]"}
    return {
        "a": base64.b64encode(base.tobytes()).decode(),
        "dtype": base.dtype.str,
        "shape": list(base.shape),
    }


def _to_json(value: Any, depth: int = 0) -> Any:
    """Plain-data tree of `value` (runs in the untrusted process)."""
    if depth > MAX_DEPTH:
        return {"o": "too deeply nested"}
    if value is None or type(value) in (bool, str):
        return value
    if type(value) is int:
        return {"i": str(value)}
    if type(value) is float:
        return value if math.isfinite(value) else {"f": repr(value)}
    if type(value) is complex:
        return {"c": [repr(value.real), repr(value.imag)]}
    if isinstance(value, np.ndarray):
        return _array_to_json(value)
    if isinstance(value, np.generic) and value.dtype.kind in NUMERIC_KINDS:
        return {"s": _array_to_json(np.asarray(value).reshape(1))}
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        data = value.detach().cpu().resolve_conj().resolve_neg()
        if data.dtype in (torch.bfloat16, torch.float16):
            data = data.float()
        return {"t": _array_to_json(data.numpy())}
    if type(value) in (list, tuple):
        return {"l" if type(value) is list else "u": [_to_json(v, depth + 1) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"d": [[k, _to_json(v, depth + 1)] for k, v in value.items()]}
    return {"o": type(value).__name__}


def encode(value: Any) -> bytes:
    return json.dumps(_to_json(value), allow_nan=False).encode()


def _array_from_json(node: dict) -> np.ndarray:
    try:
        dtype = np.dtype(node["dtype"])
        shape = tuple(int(n) for n in node["shape"])
        data = base64.b64decode(node["a"], validate=True)
    except (KeyError, TypeError, ValueError) as error:
        raise DecodeError(f"bad array: {error}") from None
    if dtype.kind not in NUMERIC_KINDS or dtype.fields is not None or any(n < 0 for n in shape):
        raise DecodeError(f"bad array dtype or shape: {dtype}, {shape}")
    if math.prod(shape) * dtype.itemsize != len(data):
        raise DecodeError("array size does not match its shape")
    return np.frombuffer(data, dtype=dtype).reshape(shape).copy()


def _from_json(node: Any, depth: int = 0) -> Any:  # noqa: C901 (one branch per wire type)
    if depth > MAX_DEPTH + 1:
        raise DecodeError("too deeply nested")
    if node is None or type(node) in (bool, str, float):
        return node
    if type(node) is not dict or len(node) == 0:
        raise DecodeError(f"unexpected {type(node).__name__}")
    if "a" in node:
        return _array_from_json(node)
    ((tag, body),) = list(node.items())[:1]
    if tag == "i":
        return int(str(body)[:5000])
    if tag == "f":
        return float({"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(body, "nan"))
    if tag == "c":
        return complex(float(body[0]), float(body[1]))
    if tag == "s":
        return _array_from_json(body)[0]
    if tag == "t":
        import torch

        return torch.from_numpy(_array_from_json(body))
    if tag in ("l", "u"):
        items = [_from_json(v, depth + 1) for v in body]
        return items if tag == "l" else tuple(items)
    if tag == "d":
        return {str(k): _from_json(v, depth + 1) for k, v in body}
    if tag == "o":
        return _opaque(str(body))
    raise DecodeError(f"unknown tag {tag!r}")


def decode(data: bytes) -> Any:
    """Rebuild a value written by `encode`; anything else raises DecodeError."""
    try:
        tree = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise DecodeError(f"not JSON: {error}") from None
    return _from_json(tree)
