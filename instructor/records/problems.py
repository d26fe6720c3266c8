"""What can go wrong with a submission, as typed records.

The part of the grader that sees a problem writes a `Problem`; the summary, the student's log
and the tests read it. Nothing searches text for a problem: a kind is a member of `Kind`, and
its sentence lives beside it, once.

Problems found while nbgrader grades a notebook travel inside the autograded notebook's
metadata (`instructor.records.notebook_record`), so they reach the coordinator even from a plain
`nbgrader autograde` run or another machine. That key is the grader's alone: a copy a
submission brings is removed before grading (`instructor.records.grader_record`), and the record is
read back entry by entry, an entry it cannot read becoming a problem of its own
(`Kind.UNREADABLE_RECORD`), never a crash.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from instructor.records import notebook_record

if TYPE_CHECKING:  # nbformat is slow to import, and the sandbox zygote never needs it
    from nbformat.notebooknode import NotebookNode


class Kind(enum.Enum):
    """Every kind of problem, with the sentence the summary shows ({where}, {detail} filled)."""

    # the submission's files
    MISSING_NOTEBOOK = "no {detail} in the submission{where}"
    BROKEN_NOTEBOOK = "{detail} is not a valid notebook (broken JSON)"
    NOTEBOOK_TOO_LARGE = "{where} is larger than {detail} and was not graded"
    FORGED_RECORD = (
        "{where} carried its own '{detail}' metadata, where the grader keeps its record; "
        "it was removed before grading"
    )
    # its cells (instructor/grading/preprocessors/rebuild_cells.py)
    TEST_CELL_DELETED = "deleted cell {where} was put back"
    EXERCISE_CELL_DELETED = "exercise cell {where} was deleted (graded as not done)"
    CELL_DUPLICATED = "cell {where} appears {detail} times: the last copy is graded"
    CELL_RETYPED = "cell {where} was changed to {detail} and was restored"
    LOCKED_CELL_EDITED = "read-only cell {where} was edited; the instructor's version was used"
    EXERCISE_CELL_TOO_LARGE = "exercise cell {where} is larger than {detail}: graded as not done"
    CELL_TOO_LARGE = "cell {where} is larger than {detail} and was left out"
    # the kernel run that produces the feedback (instructor/grading/preprocessors/grade_execute.py)
    CELL_RAISED = "{where} raised {detail}"
    OUT_OF_MEMORY = "{where} ran out of memory ({detail})"
    CELL_TIMEOUT = "{where} ran past the per-cell time limit"
    KERNEL_DIED = "the kernel died or hung in {where}; later cells were not run"
    KERNEL_NOT_CONFINED = (
        "the notebook was not executed (its kernel could not be confined: "
        "{detail}); grading is unaffected"
    )
    NOT_EXECUTED = "the notebook was not executed ({detail}); grading is unaffected"
    OUTPUT_TRUNCATED = "{where} output more than {detail} bytes; the rest was dropped"
    # the trusted tests and the sandbox (instructor/grading/preprocessors/trusted_grading.py)
    EXERCISE_CELL_FAILED = "exercise cell {where} failed while defining its functions: {detail}"
    CALL_TIMEOUT = "{where} ran past its time limit"
    PROCESS_DIED = "{where} ended the Python process running it ({detail})"
    INPUT_CHANGED = "{where} changed its argument {detail} in place (it must not modify its inputs)"
    TESTS_NOT_RUN = "test {where} could not run"
    GRADER_FAULT = "the grader failed on this submission: {detail}"
    UNCONFINED = "student code ran confined by {detail}"
    # a job and its recording (instructor/coordinator/, infrastructure/reaper.py, the grader record)
    NBGRADER_FAILED = "nbgrader could not grade it: {detail}"
    FILES_RESTORED = "course files changed while grading it (restored: {detail})"
    WORKER_DIED = "the grading process died{detail}"
    STUDENT_TIMEOUT = "grading took longer than {detail} s and was stopped"
    PROCESS_SURVIVED = "student code left {detail} running after grading (now stopped)"
    UNREADABLE_RECORD = (
        "the grader's record held an entry it cannot read ({detail}); it was left out"
    )
    MALFORMED_RESULT = "the grading job returned a result the coordinator cannot record: {detail}"


@dataclass(frozen=True)
class Problem:
    """One problem: its kind, where it happened (a cell or function), and a short detail."""

    kind: Kind
    where: str = ""
    detail: str = ""

    def sentence(self) -> str:
        where = self.where
        if self.kind is Kind.MISSING_NOTEBOOK:
            where = f" (found {self.where})" if self.where else ""
        return self.kind.value.format(where=where, detail=self.detail)

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind.name, "where": self.where, "detail": self.detail}

    @classmethod
    def from_json(cls, data: dict) -> Problem:
        """The inverse of to_json; an unknown kind is a ValueError (a record from another
        version of the course)."""
        try:
            kind = Kind[str(data["kind"])]
        except KeyError:
            raise ValueError(f"not a problem record: {data!r}") from None
        return cls(kind, str(data.get("where", "")), str(data.get("detail", "")))


@dataclass(frozen=True)
class StudentFailure:
    """One student's failure in a class-wide command (feedback, report, export): reported for
    that student, while the command goes on with every other student."""

    assignment: str
    student: str
    reason: str

    def line(self) -> str:
        """How the command reports it (one line; make it inert where it is shown)."""
        return f"  {self.assignment}/{self.student}: {self.reason}"


@dataclass
class ClassRun:
    """What a class-wide command wrote, and the students it failed for."""

    written: list[Path] = field(default_factory=list)
    failures: list[StudentFailure] = field(default_factory=list)


def record(nb: NotebookNode, problem: Problem) -> None:
    """Add `problem` to the notebook's problem list (once)."""
    store = notebook_record.section(nb, "problems", [])
    entry = problem.to_json()
    if entry not in store:
        store.append(entry)


def sentences(problems: Iterable[Problem]) -> list[str]:
    """One sentence per kind and detail, in the order first seen: problems that differ only in
    where they happened share one ("cell #4, cell #9 raised NotImplementedError")."""
    groups: dict[tuple[Kind, str], list[str]] = {}
    for problem in problems:
        places = groups.setdefault((problem.kind, problem.detail), [])
        if problem.where not in places:
            places.append(problem.where)
    return [
        Problem(kind, ", ".join(places), detail).sentence()
        for (kind, detail), places in groups.items()
    ]
