"""The class report of one assignment as data: how the class did on each exercise, the mistakes
diagnosed and who made them, what went wrong for whom. `instructor.commands.report` builds it
from the gradebook; `instructor.output.class_report` draws it as a page and a CSV."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from instructor.records.problems import Kind
from instructor.records.submission_flags import Flags

if TYPE_CHECKING:
    from instructor.coordinator.job import Result
    from instructor.scores.final_score import FinalScore

WEAK_CHECK_GAP = 0.2  # visible pass rate this far above the hidden one: a weak visible check


class Trouble(enum.Enum):
    """Why a submission was not graded normally, as the report groups problems."""

    TIMED_OUT = "timed out"
    CRASHED = "crashed"
    UNREADABLE = "unreadable"
    NO_RECORD = "grading record unreadable"


TROUBLE = {
    Kind.STUDENT_TIMEOUT: Trouble.TIMED_OUT,
    Kind.CALL_TIMEOUT: Trouble.TIMED_OUT,
    Kind.CELL_TIMEOUT: Trouble.TIMED_OUT,
    Kind.WORKER_DIED: Trouble.CRASHED,
    Kind.PROCESS_DIED: Trouble.CRASHED,
    Kind.KERNEL_DIED: Trouble.CRASHED,
    Kind.GRADER_FAULT: Trouble.CRASHED,
    Kind.NBGRADER_FAILED: Trouble.CRASHED,
    Kind.OUT_OF_MEMORY: Trouble.CRASHED,
    Kind.MISSING_NOTEBOOK: Trouble.UNREADABLE,
    Kind.BROKEN_NOTEBOOK: Trouble.UNREADABLE,
}


@dataclass
class ExerciseStats:
    """How the class did on one exercise: students whose visible check / hidden tests all
    passed, out of `graded`."""

    name: str
    graded: int = 0
    visible: int = 0
    hidden: int = 0

    def share(self, passed: int) -> float:
        return passed / self.graded if self.graded else 0.0

    @property
    def weak_check(self) -> bool:
        return self.share(self.visible) - self.share(self.hidden) >= WEAK_CHECK_GAP


@dataclass
class MistakeStats:
    """One diagnosed mistake and the students who made it."""

    exercise: str
    mistake: str
    description: str
    students: list[str] = field(default_factory=list)


@dataclass
class ClassReport:
    """Everything the page and the CSV show for one assignment."""

    assignment: str
    results: list[Result]
    exercises: list[ExerciseStats]
    mistakes: list[MistakeStats]
    troubles: dict[str, list[Trouble]]  # student -> what went wrong
    unreadable: list[str] = field(default_factory=list)  # students whose record is unreadable
    finals: dict[str, FinalScore] = field(default_factory=dict)  # student -> final score
    flags: dict[str, Flags] = field(default_factory=dict)  # student -> flags of the notebook

    def score(self, result: Result) -> float:
        """The student's final score (`instructor.scores.final_score`), as every export has it."""
        final = self.finals.get(result.student)
        return final.score if final else result.score


def passed_cells(result: Result) -> dict[str, bool]:
    """grade id -> whether it scored full points (nothing passes in a failed result)."""
    return {g.cell: not result.failed and g.score >= g.max_score for g in result.grades}
