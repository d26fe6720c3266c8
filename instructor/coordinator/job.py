"""One grading job: a submission in, its grades out, with nothing shared in between.

What grading needs comes in two parts, so that a cluster moves each once: a `Kit` holds what
every submission of one assignment shares (the assignment's source notebooks with their hidden
tests, the course's nbgrader configuration, a gradebook holding the assignments, the mistake
catalogue), sent to the cluster once per run; a `Job` holds one student's submitted files. With
both, grading runs on any machine with the course's Python environment installed, none of the
instructor's files needed (`instructor.coordinator.grade_job`), and returns a `Result` holding
plain data: the score of every graded cell, the autograded files, the problems met and the log.
Only the coordinator writes the real gradebook.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from instructor.records.diagnosis import Diagnosis
from instructor.records.problems import Problem

CONFIG_NAME = "nbgrader_config.py"
GRADEBOOK_NAME = "gradebook.db"


@dataclass(frozen=True)
class Kit:
    """What every submission of one assignment is graded with, as plain data: the same for the
    whole class, so a run sends it to the cluster once (see `instructor.coordinator.engine`)."""

    assignment: str
    sources: dict[str, bytes]  # the assignment's source notebooks (solutions/<id>/*.ipynb)
    config: str  # the course's nbgrader_config.py
    gradebook: bytes  # an SQLite gradebook that knows the assignment and its cells
    catalogue: bytes = (
        b""  # the assignment's mistake catalogue (instructor.diagnosis.catalogue), if any
    )


@dataclass(frozen=True)
class Job:
    """One student's submission of one assignment, as plain data (graded with its `Kit`)."""

    assignment: str
    student: str
    files: dict[str, bytes]  # the submission folder's files, by relative path
    digest: str = ""  # of `files`, recorded when the grade is committed


@dataclass
class Grade:
    """One graded cell's result."""

    notebook: str
    cell: str
    score: float
    max_score: float
    needs_manual_grade: bool = False


@dataclass
class Result:
    """What grading one submission produced."""

    assignment: str
    student: str
    grades: list[Grade] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)  # never part of the score
    failed: bool = False  # nothing could be graded: every cell scores zero
    ungraded: bool = False  # the grader could not grade it: nothing is recorded (see `not_graded`)
    autograded: dict[str, bytes] = field(default_factory=dict)
    timestamp: str | None = None
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # see instructor.records.phases
    log: str = ""
    digest: str = ""

    @property
    def score(self) -> float:
        return 0.0 if self.failed else sum(g.score for g in self.grades)

    @property
    def max_score(self) -> float:
        return sum(g.max_score for g in self.grades)


def failure(job: Job, problem: Problem) -> Result:
    """The result of a job that could not be graded at all, by the submission's doing."""
    return Result(job.assignment, job.student, problems=[problem], failed=True, digest=job.digest)


def not_graded(job: Job, problem: Problem) -> Result:
    """The result of a job the grader could not grade, by no doing of the submission (the
    cluster or the tooling failed): it is reported, not recorded, so the next run grades it."""
    return dataclasses.replace(failure(job, problem), ungraded=True)


def malformed(result: object) -> str | None:
    """What is wrong with a job's result that the coordinator could not record or show (a
    worker running another version of the course, say), or None when it is well formed."""
    import math

    if not isinstance(result, Result):
        return f"a {type(result).__name__}, not a Result"
    checks = (
        ("assignment", isinstance(result.assignment, str)),
        ("student", isinstance(result.student, str)),
        (
            "grades",
            isinstance(result.grades, list)
            and all(
                isinstance(g, Grade)
                and isinstance(g.notebook, str)
                and isinstance(g.cell, str)
                and all(
                    isinstance(v, int | float) and math.isfinite(v) for v in (g.score, g.max_score)
                )
                for g in result.grades
            ),
        ),
        ("problems", isinstance(result.problems, list)),
        ("problems", all(isinstance(p, Problem) for p in result.problems)),
        ("diagnoses", all(isinstance(d, Diagnosis) for d in result.diagnoses)),
        (
            "autograded files",
            isinstance(result.autograded, dict)
            and all(
                isinstance(k, str) and isinstance(v, bytes) for k, v in result.autograded.items()
            ),
        ),
        ("timestamp", result.timestamp is None or isinstance(result.timestamp, str)),
        ("seconds", isinstance(result.seconds, int | float)),
        (
            "phases",
            isinstance(result.phases, dict)
            and all(isinstance(v, int | float) for v in result.phases.values()),
        ),
        ("log", isinstance(result.log, str)),
    )
    wrong = [name for name, ok in checks if not ok]
    return f"its {wrong[0]} are malformed" if wrong else None
