"""The harness the per-notebook message tests share (tests/test_0*_messages.py).

A visible check must not only fail a known mistake but say where to look: the input it failed
on, what the function returned, what was expected, and a hint that names the cause. A
`Notebook` runs a notebook's model answers and checking tools from its solution cells, swaps one
exercise for a wrong implementation (a catalogue entry, or one written in the test), and returns
the message the exercise's visible check shows. Each test file keeps only what is particular to
its notebook: the cells its checks need, and what each message must say.

That every catalogued mistake fails its visible check at all (issue 27: a self-learner has only
the visible check) is asserted for every notebook by tests/test_known_mistakes.py, where an entry
the visible check passes is an escape; the tests here check what the message says.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence

import numpy as np
import torch

import course_tools
from helpers import checks
from instructor.diagnosis import catalogue
from instructor.records.cells import nbgrader_meta

SOLUTIONS = course_tools.ROOT / "solutions"


class Notebook:
    """One notebook's solution cells, and its visible checks run on wrong implementations.

    `setup`: the grade ids of the cells run, in this order, before a wrong implementation (the
    model answers and the checking tools its checks call); `exercises`: those whose visible
    checks the model answers must pass; `names`: modules a cell uses without importing them,
    besides np, torch and checks."""

    def __init__(
        self,
        assignment: str,
        setup: Sequence[str],
        exercises: Sequence[str] = (),
        **names,
    ):
        self.assignment = assignment
        self.setup = tuple(setup)
        self.exercises = tuple(exercises)
        self.names = {"np": np, "torch": torch, "checks": checks, **names}

    @functools.cached_property
    def cells(self) -> dict[str, str]:
        """grade_id -> source, for every graded cell of the solution notebook."""
        nb = course_tools.read(course_tools.notebook_path(SOLUTIONS, self.assignment))
        return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if nbgrader_meta(c)}

    @functools.cached_property
    def entries(self) -> dict[str, catalogue.Mistake]:
        """The notebook's mistake catalogue, by entry id."""
        return {e.id: e for e in catalogue.load(SOLUTIONS, self.assignment)}

    @staticmethod
    def mistake(exercise: str, name: str, source: str) -> catalogue.Mistake:
        """A wrong implementation of `exercise` that the catalogue does not hold."""
        return catalogue.Mistake(exercise, name, "d", hint="h", source=source)

    def namespace_with(self, source: str = "") -> dict:
        """The model answers and the checking tools, then `source` (a mistake) over them."""
        namespace = dict(self.names)
        for grade_id in self.setup:
            exec(self.cells[grade_id], namespace)
        exec(source, namespace)
        return namespace

    def visible_failure(self, mistake: str | catalogue.Mistake) -> str:
        """The message the visible check of the mistake's exercise shows ('' when it passes);
        `mistake` is a catalogue entry or its id."""
        if isinstance(mistake, str):
            mistake = self.entries[mistake]
        namespace = self.namespace_with(mistake.source)
        try:
            exec(self.cells[f"test_{mistake.exercise}"], namespace)
        except checks.CheckFailure as failure:
            return str(failure)
        return ""

    def run_visible_checks(self) -> None:
        """Run every exercise's visible check on the model answers (a failure raises)."""
        namespace = self.namespace_with()
        for exercise in self.exercises:
            exec(self.cells[f"test_{exercise}"], namespace)

    def expect_message(
        self,
        mistake: str | catalogue.Mistake,
        *,
        problem: str | None = None,
        head: str | None = None,
        second_line: str | None = None,
        case: str | None = None,
        hint: Iterable[str] = (),
    ) -> str:
        """Assert what the visible check of `mistake` says, and return its message.

        `problem`: in the first line (what is wrong); `head`: before "  returned:" (the
        problem and the input named); `second_line`: in the second line (the input named);
        `case`: anywhere in the message (the input named); `hint`: phrases the hint holds."""
        message = self.visible_failure(mistake)
        label = mistake if isinstance(mistake, str) else mistake.id
        lines = message.split("\n")
        if problem is not None:
            assert problem in lines[0], message
        if head is not None:
            assert head in message.split("  returned:")[0], message
        if second_line is not None:
            assert len(lines) > 1 and second_line in lines[1], message
        if case is not None:
            assert case in message, message
        tail = message.split("hint:")[-1]
        for phrase in hint:
            assert phrase in tail, f"{label}: the hint lacks {phrase!r}:\n{message}"
        return message
