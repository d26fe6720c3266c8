"""What calling a student's function can raise in the grader, and how the student's own
exception is rebuilt there."""

from __future__ import annotations

import builtins
import sys
from typing import Any

# Modules whose exception classes a student's function may raise and a check may expect by
# class (`except np.linalg.LinAlgError`). Only classes already imported in the grader are used.
TRUSTED_EXCEPTION_MODULES = ("builtins", "numpy", "torch")


class SandboxError(Exception):
    """The student's code could not be called (it timed out, died, or sent garbage)."""


class TimeLimitExceeded(SandboxError):
    """A cell or a call ran past its time limit."""


class ProcessDied(SandboxError):
    """The process running the student's code ended (or could not be started)."""


def _known_class(module: str, qualname: str, base: type) -> type | None:
    """The class `module.qualname` if its module is trusted and already imported here and it is
    a subclass of `base`; else None."""
    if module.split(".")[0] not in TRUSTED_EXCEPTION_MODULES:
        return None
    found: Any = builtins if module == "builtins" else sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return found if isinstance(found, type) and issubclass(found, base) else None


def warning_class(name: str) -> type[Warning]:
    """A built-in warning class by name (UserWarning for anything else)."""
    return _known_class("builtins", name, Warning) or UserWarning


def student_exception(name: str, body: Any, cell_errors: dict[str, str]) -> Exception:
    """The exception a student's function raised, rebuilt in the grader from the child's
    [module, class name, message, traceback]: the class itself when it is a trusted one
    (`except ValueError` and `except np.linalg.LinAlgError` work), otherwise a stand-in class
    of the same name."""
    module, qualname, message = str(body[0]), str(body[1]), str(body[2])
    if qualname == "NameError" and message == f"name {name!r} is not defined":
        broken = "; ".join(f"cell {k}: {v}" for k, v in cell_errors.items())
        return NameError(
            f"{name} is not defined by your exercise cells"
            + (f" ({broken})" if broken else " (was its cell deleted, or the function renamed?)")
        )
    known = _known_class(module, qualname, Exception)
    if known is not None and not issubclass(known, Warning):
        try:
            return known(message)
        except TypeError:  # an exception class with a different constructor
            pass
    short = qualname.rsplit(".", 1)[-1]
    cls = type(short if short.isidentifier() else "StudentError", (Exception,), {})
    return cls(message)
