"""A student's final score on an assignment: the one definition that the report, every export
and the feedback read.

    final = min(max_score, max(0, automatic + adjustment)) x (1 - late percent / 100)

- automatic: the autograder's score, as grading recorded it (the gradebook's automatic cell
  scores, which the done-marker repeats). A score set by hand in nbgrader's formgrader
  (`manual_score`, extra credit) does not count: it would survive a resubmission and override
  the newer automatic grade. Where the gradebook holds one, it is shown beside the final score as
  ignored, with the command to use instead (`rnn-course adjust`).
- adjustment: the instructor's `rnn-course adjust` for this student and assignment
  (`instructor.scores.adjustments`), with its reason. After a resubmission it still counts, flagged
  `stale` ("made on an earlier submission") until confirmed or removed.
- late percent: the course's penalty policy (`instructor.scores.lateness`, off by default) for
  the days late by the recorded submission time.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from instructor.records import lms
from instructor.records.submission import WORK
from instructor.scores import adjustments
from instructor.scores.adjustments import Adjustment
from instructor.scores.lateness import Deadlines, Lateness, deadlines


@dataclass(frozen=True)
class Graded:
    """What grading recorded for one submission."""

    assignment: str
    student: str
    automatic: float
    max_score: float
    submitted: datetime | None = None  # the submission time collect recorded (UTC)
    digest: str = ""  # of the files graded
    formgrader: float | None = None  # the gradebook's score with formgrader's marks, if it differs


@dataclass(frozen=True)
class FinalScore:
    """One student's final score on one assignment, and everything it is made of."""

    graded: Graded
    lateness: Lateness
    adjustment: Adjustment | None = None
    late_percent: float = 0.0  # the penalty policy's share for this lateness (0: none)

    @property
    def assignment(self) -> str:
        return self.graded.assignment

    @property
    def student(self) -> str:
        return self.graded.student

    @property
    def automatic(self) -> float:
        return self.graded.automatic

    @property
    def max_score(self) -> float:
        return self.graded.max_score

    @property
    def stale(self) -> bool:
        """The adjustment was made on an earlier submission than the one graded now."""
        return self.adjustment is not None and self.adjustment.digest != self.graded.digest

    @property
    def adjusted(self) -> float:
        """Automatic plus adjustment, within 0 and the maximum."""
        points = self.adjustment.points if self.adjustment else 0.0
        return min(self.max_score, max(0.0, self.automatic + points))

    @property
    def penalty(self) -> float:
        """Points lost for lateness."""
        return round(self.adjusted * self.late_percent / 100, 4)

    @property
    def score(self) -> float:
        return round(self.adjusted - self.penalty, 4)

    def notes(self) -> list[str]:
        """What an instructor should know about this score, one sentence each."""
        out = []
        if self.adjustment:
            out.append(
                f"adjusted {self.adjustment.points:+g}: {self.adjustment.reason}"
                + (" (made on an earlier submission)" if self.stale else "")
            )
        if self.lateness.late:
            out.append(self.lateness.describe())
        if self.penalty:
            out.append(f"late penalty -{self.penalty:g} ({self.late_percent:g} %)")
        if self.graded.formgrader is not None:
            out.append(
                f"formgrader score {self.graded.formgrader:g} ignored: use rnn-course adjust"
            )
        return out


def _time(text: str | None) -> datetime | None:
    """A recorded time (ISO 8601; naive ones are UTC, as nbgrader stores them)."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(str(text).removesuffix(" UTC"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _from_markers(root: Path, assignment: str) -> dict[str, Graded]:
    """student -> what the done-markers of `assignment` recorded."""
    folder = root / WORK / "done" / assignment
    found = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text())
            found[path.stem] = Graded(
                assignment,
                path.stem,
                float(data["score"]),
                sum(float(g["max_score"]) for g in data["grades"]),
                _time(data.get("timestamp")),
                str(data.get("digest", "")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            continue  # the report lists an unreadable record; it has no score
    return found


GRADES = """
SELECT a.name, sa.student_id, sa.timestamp, SUM(COALESCE(g.auto_score, 0)),
       SUM(COALESCE(g.manual_score, g.auto_score, 0) + COALESCE(g.extra_credit, 0)),
       COUNT(g.manual_score) + COUNT(g.extra_credit)
FROM grade g JOIN submitted_notebook sn ON g.notebook_id = sn.id
JOIN submitted_assignment sa ON sn.assignment_id = sa.id
JOIN assignment a ON sa.assignment_id = a.id
GROUP BY a.name, sa.student_id
"""
MAXIMA = """
SELECT a.name, SUM(c.max_score)
FROM (SELECT id, max_score FROM grade_cells UNION ALL SELECT id, max_score FROM task_cells) c
JOIN base_cell b ON c.id = b.id JOIN notebook n ON b.notebook_id = n.id
JOIN assignment a ON n.assignment_id = a.id
GROUP BY a.name
"""


def _from_gradebook(root: Path) -> dict[str, dict[str, Graded]]:
    """assignment -> student -> what the gradebook holds (nothing for a folder without one)."""
    if not (root / "nbgrader_config.py").is_file():
        return {}
    from instructor.infrastructure.course_folder import db_url

    url = db_url(root)
    path = Path(url.removeprefix("sqlite:///"))
    if not url.startswith("sqlite:///") or not path.is_file():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        maxima = {name: float(top or 0) for name, top in db.execute(MAXIMA)}
        rows = db.execute(GRADES).fetchall()
    found: dict[str, dict[str, Graded]] = {}
    for assignment, student, stamp, auto, with_manual, manual in rows:
        found.setdefault(assignment, {})[student] = Graded(
            assignment,
            student,
            float(auto),
            maxima.get(assignment, 0.0),
            _time(stamp),
            formgrader=float(with_manual) if manual and with_manual != auto else None,
        )
    return found


def graded(root: Path, assignments: list[str] | None = None) -> dict[str, dict[str, Graded]]:
    """assignment -> student -> what grading recorded: the gradebook's automatic scores with
    the done-markers' digests (a folder without a gradebook: the done-markers alone)."""
    book = _from_gradebook(root)
    done = root / WORK / "done"
    marked = sorted(p.name for p in done.iterdir() if p.is_dir()) if done.is_dir() else []
    found: dict[str, dict[str, Graded]] = {}
    for assignment in assignments or sorted({*book, *marked}):
        markers = _from_markers(root, assignment)
        rows = book.get(assignment, {})
        merged = {}
        for student in sorted({*markers, *rows}):
            row, marker = rows.get(student), markers.get(student)
            if row and marker:
                row = Graded(
                    assignment,
                    student,
                    row.automatic,
                    row.max_score,
                    row.submitted or marker.submitted,
                    marker.digest,
                    row.formgrader,
                )
            merged[student] = row or marker
        if merged:
            found[assignment] = merged
    return found


@dataclass
class FinalScores:
    """Every final score of a course: assignment -> student -> FinalScore."""

    by_assignment: dict[str, dict[str, FinalScore]] = field(default_factory=dict)

    def of(self, assignment: str) -> dict[str, FinalScore]:
        return self.by_assignment.get(assignment, {})

    def stale(self) -> list[FinalScore]:
        """Scores whose adjustment was made on an earlier submission."""
        return [f for s in self.by_assignment.values() for f in s.values() if f.stale]

    def late(self) -> list[FinalScore]:
        return [f for s in self.by_assignment.values() for f in s.values() if f.lateness.late]

    def points(self) -> dict[str, dict[str, float]]:
        """assignment -> student -> final score."""
        return {a: {s: f.score for s, f in by.items()} for a, by in self.by_assignment.items()}

    def noted(self) -> list[str]:
        """A line for every score with something to know (adjusted, late, penalised, a
        formgrader score ignored), as the exports print them (make them inert to show)."""
        return [
            f"  {f.assignment}/{f.student}: {f.score:g}/{f.max_score:g}; " + "; ".join(f.notes())
            for by in self.by_assignment.values()
            for f in by.values()
            if f.notes()
        ]


def final_score(
    graded_: Graded, rules: Deadlines, marker: bool, adjustment: Adjustment | None
) -> FinalScore:
    """The final score of one graded submission under the course's rules."""
    lateness = Lateness(graded_.submitted, rules.due.get(graded_.assignment), marker)
    percent = rules.policy.percent(lateness.days) if rules.policy else 0.0
    return FinalScore(graded_, lateness, adjustment, percent)


def final_scores(root: Path, assignments: list[str] | None = None) -> FinalScores:
    """The final score of every graded submission (of every assignment, or those named)."""
    rules = deadlines(root)
    made = adjustments.load(root)
    result = FinalScores()
    for assignment, students in graded(root, assignments).items():
        markers = {s: i.late for s, i in lms.recorded(root, assignment).items()}
        result.by_assignment[assignment] = {
            student: final_score(
                found, rules, markers.get(student, False), made.get((assignment, student))
            )
            for student, found in students.items()
        }
    return result


def graded_digest(root: Path, assignment: str, student: str) -> str:
    """The digest of the submission graded now (what an adjustment made now is made on);
    ValueError when it is not graded."""
    found = graded(root, [assignment]).get(assignment, {}).get(student)
    if found is None:
        raise ValueError(
            f"{assignment}/{student} is not graded: run `rnn-course autograde -a {assignment} "
            f"-s {student}` first"
        )
    return found.digest
