"""Plausible wrong implementations, as students write them. Every one must lose points.

They are the mistake catalogue's entries (`solutions/<id>/mistakes.py`, read by
`instructor.diagnosis.catalogue`), the same ones diagnosis names at grading time, so the tests and
the diagnosis cannot drift apart: add a mistake there (CONTRIBUTING.md says how), never here.

Each mutant replaces one solution cell (by grade_id). All are graded by the course's grader in
tests/test_exercise_mutants.py, where each must lose points on its own exercise ONLY (an
exercise that calls the mistaken function is graded with the model solution of it:
instructor/infrastructure/sandbox/model_calls.py); `roundtrip=True` ones are also graded through
nbgrader as part of a class in tests/test_grading.py, with the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import course_tools
from instructor.diagnosis import catalogue
from instructor.records.cells import tested_exercise


@dataclass(frozen=True)
class Mutant:
    """One implementation of one catalogue entry (an entry with variants gives several)."""

    assignment: str
    cell: str
    mistake: str  # the entry's id
    source: str
    roundtrip: bool = False


def _mutants() -> list[Mutant]:
    solutions = course_tools.ROOT / "solutions"
    return [
        Mutant(
            assignment, entry.exercise, entry.id, source, entry.roundtrip and source is entry.source
        )
        for assignment in course_tools.assignments()
        for entry in catalogue.load(solutions, assignment)
        for source in entry.sources
    ]


MUTANTS = _mutants()


def exercise_of(grade_id: str) -> str:
    """The exercise a grade cell tests: test_<name> and hidden_<name> both test <name>."""
    return tested_exercise(grade_id) or grade_id
