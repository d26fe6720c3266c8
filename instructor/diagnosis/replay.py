"""Diagnosis by replay: what a failing student function did, compared with the known mistakes.

While the tests run (`instructor.grading.trusted_run`), every call they make to a student's function
is recorded (`instructor.diagnosis.recorder.RecordedFunction`): a deep copy of its arguments taken
before the call, and what came back (the returned value, the exception, the warnings, and the
arguments as the call left them). When a test of an exercise fails, `diagnose` replays those calls,
here in the grader, on the model solution and on each catalogue entry of the exercise
(`instructor.diagnosis.catalogue`: trusted code, never student code), in a namespace holding the
set-up cell and the model solutions of the other exercises; an exercise written from scratch replays
where torch cannot be imported, as its sandbox does. Then:

- an entry that behaves like the student on EVERY recorded call matches;
- one match names that mistake; several name the most specific: the smallest change to the model
  solution (fewest differing tokens, `catalogue.change_size`) that explains every result, since
  it claims the least beyond what was seen; ties go to the catalogue's order;
- no match is "not a known mistake";
- a function that calls another exercise that failed its own tests is "not diagnosed", before
  any matching: its results carry the other's error, and correct code calling a wrong function
  can behave exactly like a known mistake of its own (a false name, which diagnosis must avoid).

Behaviours are compared as data: numbers by kind (bool, integer, real, complex), shape and value
(float64 to 1e-9 relative, float32 to 1e-5), containers item by item, exceptions by class name
and message, warnings by category. A diagnosis never changes a score.
"""

from __future__ import annotations

import builtins
import contextlib
import copy
import io
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nbformat.notebooknode import NotebookNode

from helpers.checks import InputChanged, argument_labels, first_changed
from instructor.diagnosis import catalogue as catalogue_module
from instructor.diagnosis.catalogue import Mistake
from instructor.diagnosis.recorder import Behaviour, Call, arguments_after, exception_key, plain
from instructor.infrastructure.confine import NO_TORCH, TORCH_PACKAGES
from instructor.records.cells import (
    python_source,
    tested_exercise,
)
from instructor.records.diagnosis import Diagnosis, Verdict

if TYPE_CHECKING:  # trusted_run imports this module
    from instructor.grading.trusted_run import TrustedRun

BUDGET_SECONDS = 20.0  # diagnosis of one submission stops here (it never runs past a call)


# ---- running trusted code on recorded inputs ----------------------------------------------------
def _import_without_torch(name, globals=None, locals=None, fromlist=(), level=0):  # noqa: A002
    if level == 0 and name.split(".")[0] in TORCH_PACKAGES:
        raise ImportError(NO_TORCH.split('"')[1])
    return builtins.__import__(name, globals, locals, fromlist, level)


class _IPythonStub:
    def run_line_magic(self, *args: Any, **kwargs: Any) -> None:
        return None

    run_cell_magic = system = run_line_magic


def _run_quietly(source: str, label: str, namespace: dict) -> bool:
    """exec trusted source statement by statement (a statement that fails is skipped, as the
    sandbox skips what it cannot run); False when any failed."""
    import ast

    ok = True
    try:
        statements = [ast.unparse(node) for node in ast.parse(source).body]
    except SyntaxError:
        return False
    with (
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        warnings.catch_warnings(),
    ):
        warnings.simplefilter("ignore")
        for statement in statements:
            try:
                exec(compile(statement, f"<{label}>", "exec"), namespace)
            except Exception:  # noqa: BLE001 (best effort, like the sandbox's set-up)
                ok = False
    return ok


class Namespaces:
    """Where replays run: the set-up cell and every model solution of the source notebook, with
    torch importable or not."""

    def __init__(self, source_nb: NotebookNode):
        from instructor.infrastructure import source_notebook

        parsed = source_notebook.parse(source_nb)
        self.setup = parsed.setup
        self.models: dict[str, str] = {m.label: m.source for m in parsed.models}
        self.with_torch = {m.label for m in parsed.models if m.needs_torch}
        self._bases: dict[bool, dict] = {}

    def base(self, allow_torch: bool) -> dict:
        if allow_torch not in self._bases:
            import_ = builtins.__import__ if allow_torch else _import_without_torch
            namespace = {
                "__name__": "__main__",
                "get_ipython": _IPythonStub,
                "__builtins__": {**vars(builtins), "__import__": import_},
            }
            _run_quietly(self.setup, "set-up", namespace)
            for gid, source in self.models.items():
                _run_quietly(source, gid, namespace)
            self._bases[allow_torch] = namespace
        return self._bases[allow_torch]

    def functions(self, exercise: str, source: str | None = None) -> dict[str, Callable] | None:
        """The functions an exercise cell defines: the model solution's (source None) or those
        of `source`, run in a copy of the base namespace; None when it cannot be run."""
        base = self.base(exercise in self.with_torch)
        if source is None:
            return base
        namespace = dict(base)
        return namespace if _run_quietly(python_source(source), exercise, namespace) else None


def observe(fn: Callable | None, before: tuple[tuple, dict]) -> Behaviour:
    """Run trusted `fn` on a fresh copy of recorded arguments; what it did."""
    if not callable(fn):
        return Behaviour(raised=("NameError", "not defined"))
    args, kwargs = copy.deepcopy(before)
    with (
        warnings.catch_warnings(record=True) as caught,
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
    ):
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 (an entry may raise: that is behaviour)
            return Behaviour(raised=exception_key(error))
    changed = first_changed([*before[0], *before[1].values()], [*args, *kwargs.values()])
    if changed is not None:  # as the sandbox fails a student's function
        label = argument_labels(fn, args, kwargs)[changed]
        return Behaviour(raised=exception_key(InputChanged(fn.__name__, label)))
    return Behaviour(
        plain(result),
        None,
        frozenset(w.category.__name__ for w in caught),
        arguments_after(args, kwargs),
    )


# ---- the diagnosis ----------------------------------------------------------------------------
@dataclass
class Evidence:
    """The recorded calls of one exercise's functions and what the model solution does on
    them."""

    calls: list[Call]
    model: list[Behaviour] = field(default_factory=list)

    def wrong(self) -> list[int]:
        return [
            i
            for i, (c, m) in enumerate(zip(self.calls, self.model, strict=True))
            if not c.behaviour.agrees(m)
        ]


def matches(entry_functions: dict | None, evidence: Evidence, order: list[int]) -> bool:
    """Whether functions behave like the student on every recorded call (tried in `order`)."""
    if entry_functions is None:
        return False
    for i in order:
        call = evidence.calls[i]
        if not call.behaviour.agrees(observe(entry_functions.get(call.function), call.before)):
            return False
    return True


def diagnose(
    exercise: str,
    calls: list[Call],
    entries: list[Mistake],
    space: Namespaces,
    upstream: list[str] = (),
) -> Diagnosis:
    """The verdict on one failing exercise (see the module docstring). `upstream`: the other
    exercise functions the student's code calls that failed their own tests."""
    if not calls:
        return Diagnosis(exercise, Verdict.NOT_DIAGNOSABLE, detail="the tests never called it")
    usable = [c for c in calls if c.before is not None]
    if not usable:
        return Diagnosis(
            exercise,
            Verdict.NOT_DIAGNOSABLE,
            detail="its arguments cannot be copied (they are not plain data)",
        )
    if upstream:  # correct code calling a wrong function can mimic a mistake of its own
        return Diagnosis(exercise, Verdict.UPSTREAM, detail=", ".join(sorted(upstream)))
    model = space.functions(exercise)
    evidence = Evidence(usable, [observe(model.get(c.function), c.before) for c in usable])
    wrong = evidence.wrong()
    if not wrong:
        return Diagnosis(
            exercise,
            Verdict.UNKNOWN,
            detail="it gave the model solution's results on every replayed call",
        )
    order = wrong + [i for i in range(len(usable)) if i not in wrong]
    found = [
        e
        for e in entries
        if e.exercise == exercise
        and e.diagnosable
        and matches(space.functions(exercise, e.source), evidence, order)
    ]
    if found:
        model_source = space.models.get(exercise, "")
        best = min(
            found,
            key=lambda e: (catalogue_module.change_size(e.source, model_source), entries.index(e)),
        )
        detail = (
            ""
            if len(found) == 1
            else "also like " + ", ".join(e.id for e in found if e is not best)
        )
        return Diagnosis(exercise, Verdict.KNOWN, best.id, best.description, best.hint, detail)
    return Diagnosis(exercise, Verdict.UNKNOWN)


def read_source(path: Any) -> NotebookNode:
    """The instructor's source notebook at `path`."""
    import nbformat

    return nbformat.read(path, as_version=4)


def failing_exercises(outcomes: dict, exercises: set[str]) -> list[str]:
    """The exercises with a failed test cell, in the order of their first failure."""
    found: list[str] = []
    for gid, outcome in outcomes.items():
        exercise = tested_exercise(gid)
        if not outcome.passed and exercise in exercises and exercise not in found:
            found.append(exercise)
    return found


def diagnose_run(
    source_nb: NotebookNode, run: TrustedRun, entries: list[Mistake], budget: float = BUDGET_SECONDS
) -> list[Diagnosis]:
    """One diagnosis per failing exercise of a `TrustedRun` made with recording on."""
    from helpers.checks import referenced_names

    started = time.monotonic()
    space = Namespaces(source_nb)
    owner: dict[str, str] = run.owner  # function name -> exercise cell id
    failing = failing_exercises(run.outcomes, set(owner.values()))
    found = []
    for exercise in failing:
        if time.monotonic() - started > budget:
            found.append(
                Diagnosis(
                    exercise,
                    Verdict.NOT_DIAGNOSABLE,
                    detail=f"diagnosis ran out of its {budget:.0f} s",
                )
            )
            continue
        names = [f for f, gid in owner.items() if gid == exercise]
        calls = [c for f in names for c in run.calls.get(f, [])]
        upstream = sorted(
            {
                owner[n]
                for f in names
                if f in run.students
                for n in referenced_names(run.students[f])
                if n in owner and owner[n] != exercise and owner[n] in failing
            }
        )
        found.append(diagnose(exercise, calls, entries, space, upstream))
    return found
