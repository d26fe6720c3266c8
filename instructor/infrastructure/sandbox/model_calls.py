"""The model solutions a student's function gets when it calls another exercise.

A student whose `rnn_step_forward` is wrong and whose `rnn_forward` is right loses the points of
`rnn_step_forward` only. While the tests call a student's function B, every exercise defined in
a cell above B's stands, in B's sandbox, for its model solution: the call crosses back to the
grader (`Message.MODEL`), which runs the model in a sandbox of its own, holding the set-up cell
and the model solutions and never any student code, and sends the result back. The student's
process never holds the model's source, code or function.

What crosses: the arguments B passed, as plain data (`codec`: numbers, strings, numeric arrays,
and lists, tuples and dicts of them; never unpickled here); the model's result, as plain data
from the model's process. What a student learns is A's output on inputs their own code chose
(returned through B, it may show in their feedback): what the notebook's own oracle, the torch
reference of its checking cells, computes for them anyway. Never A's code.

Bounds: only exercises above B's cell (never B itself, nor one below it, whose model could compute
B's answer); at most `MAX_CALLS` answers and `MAX_SECONDS` of the model's time per submission;
each answer within the call's time limit; once the model's process fails (time, memory), no
more answers. A call declined for any reason, or with arguments that are not plain data, runs
the student's own function instead, as it would without this.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from instructor.infrastructure import confine
from instructor.infrastructure.sandbox import codec
from instructor.infrastructure.sandbox.errors import SandboxError
from instructor.infrastructure.sandbox.sandbox import Limits, Sandbox

MAX_CALLS = 20_000
MAX_SECONDS = 120.0


def _opaque(value: Any, depth: int = 0) -> bool:
    """Whether `value` holds anything that is not plain data (what cannot go back as such)."""
    if isinstance(value, codec.Opaque) or depth > codec.MAX_DEPTH:
        return True
    if type(value) in (list, tuple):
        return any(_opaque(v, depth + 1) for v in value)
    if type(value) is dict:
        return any(_opaque(v, depth + 1) for v in value.values())
    return False


class ModelCalls:
    """The grader's model solutions, answering a student's calls to other exercises.

    setup: the set-up cell; cells: (label, plain Python source) of the model solution's exercise
    cells; order: exercise function -> index of the cell defining it (which exercises are above
    which); with_torch: the functions whose model works on torch objects (run where torch is);
    unwritten: the functions whose cell the student left as released, never answered.
    """

    def __init__(
        self,
        setup: str,
        cells: list[tuple[str, str]],
        order: dict[str, int],
        with_torch: set[str],
        limits: Limits | None = None,
        confined: bool = True,
        unwritten: frozenset[str] = frozenset(),
    ):
        self.setup, self.cells, self.order, self.with_torch = setup, cells, order, with_torch
        # Exercises the student left as released (the stub): never answered, so that a function
        # cannot be graded on models of exercises its author did not write at all (a backward
        # pass by finite differences of the model forward, with no forward written).
        self.unwritten = unwritten
        self.limits, self.confined = limits or Limits(), confined
        self.sandboxes: dict[bool, Sandbox] = {}
        self.broken: set[bool] = set()
        self.calls, self.seconds = 0, 0.0

    def above(self, name: str) -> tuple[str, ...]:
        """The exercises whose model a call of `name` may get: those defined above its cell."""
        if name not in self.order:
            return ()
        return tuple(
            n for n, i in self.order.items() if i < self.order[name] and n not in self.unwritten
        )

    def answer(self, exercise: str, args: tuple, kwargs: dict) -> tuple[bool, Any]:
        """(True, the model's result) or (False, None) where no answer is given."""
        if exercise not in self.order or exercise in self.unwritten or _opaque((args, kwargs)):
            return False, None
        allow_torch = exercise in self.with_torch
        if allow_torch in self.broken or self.calls >= MAX_CALLS or self.seconds >= MAX_SECONDS:
            return False, None
        self.calls += 1
        started = time.monotonic()
        sandbox = self._sandbox(allow_torch)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = sandbox.call(exercise, args, kwargs)
        except SandboxError:  # it hung or died on these arguments: no more answers
            self.broken.add(allow_torch)
            sandbox.close()
            return False, None
        except Exception:  # the model refused these arguments: the student's own runs
            return False, None
        finally:
            self.seconds += time.monotonic() - started
        return (False, None) if _opaque(result) else (True, result)

    def _sandbox(self, allow_torch: bool) -> Sandbox:
        if allow_torch not in self.sandboxes:
            scratch = confine.make_scratch() if self.confined else None
            self.sandboxes[allow_torch] = Sandbox(
                self.setup, self.cells, self.limits, scratch, allow_torch=allow_torch
            )
        return self.sandboxes[allow_torch]

    def close(self) -> None:
        for sandbox in self.sandboxes.values():
            sandbox.close()
            if sandbox.scratch:
                confine.remove_scratch(sandbox.scratch)
        self.sandboxes.clear()
