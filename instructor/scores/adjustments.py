"""Manual adjustments of a grade, each with its reason, kept in the course folder.

`rnn-course adjust -a ID -s STUDENT --points P --reason TEXT` records one; `--list` shows them,
`--remove` takes one back. They live in `adjustments.json` at the course's root (beside
nbgrader_config.py; git ignores it, as it does the gradebook): a JSON file a person can read,
written whole and then renamed into place, so an interrupted write leaves the earlier file.
One student has at most one adjustment per assignment; a new one replaces it.

Each adjustment remembers the submission it was made on (the digest grading recorded,
`instructor.records.submission.Submission.digest`). The rule for a resubmission: the adjustment
stays and still counts, but it is flagged "made on an earlier submission" wherever the grade shows
(report, exports, `adjust --list`) until the instructor confirms it (`adjust` again, on the new
submission) or removes it. `instructor.scores.final_score` applies them.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

STORE = "adjustments.json"


@dataclass(frozen=True)
class Adjustment:
    """Points added to (or, negative, taken from) one student's grade on one assignment."""

    assignment: str
    student: str
    points: float
    reason: str
    made: str  # when, ISO 8601 UTC
    digest: str  # the graded submission it was made on ("" when grading recorded none)

    def line(self, stale: bool = False) -> str:
        """How a listing shows it."""
        note = " [made on an earlier submission]" if stale else ""
        return (
            f"{self.assignment}/{self.student}: {self.points:+g} points, {self.reason!r} "
            f"({self.made[:16].replace('T', ' ')} UTC){note}"
        )


def store(root: Path) -> Path:
    """Where the adjustments of the course at `root` are kept."""
    return root / STORE


def load(root: Path) -> dict[tuple[str, str], Adjustment]:
    """(assignment, student) -> adjustment; ValueError naming the file when it is unreadable."""
    path = store(root)
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text())
        found = [Adjustment(**entry) for entry in entries]
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"{path} cannot be read ({error}): fix it by hand, or restore it from a backup"
        ) from None
    return {(a.assignment, a.student): a for a in found}


def _save(root: Path, adjustments: dict[tuple[str, str], Adjustment]) -> None:
    path = store(root)
    entries = [asdict(a) for _, a in sorted(adjustments.items())]
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps(entries, indent=1, ensure_ascii=False) + "\n")
    os.replace(partial, path)


def adjust(
    root: Path, assignment: str, student: str, points: float, reason: str, digest: str
) -> Adjustment:
    """Record (or replace) the adjustment of `student` on `assignment`, made on the submission
    graded with `digest`."""
    if not math.isfinite(points) or points == 0:
        raise ValueError(f"--points must be a non-zero number, got {points!r}")
    if not reason.strip():
        raise ValueError("--reason must say why (the student and the report will show it)")
    made = datetime.now(UTC).isoformat(timespec="seconds")
    adjustment = Adjustment(assignment, student, float(points), reason.strip(), made, digest)
    _save(root, load(root) | {(assignment, student): adjustment})
    return adjustment


def remove(root: Path, assignment: str, student: str) -> Adjustment:
    """Take back the adjustment of `student` on `assignment`; ValueError when there is none."""
    adjustments = load(root)
    gone = adjustments.pop((assignment, student), None)
    if gone is None:
        raise ValueError(
            f"{assignment}/{student} has no adjustment; `rnn-course adjust --list` shows them"
        )
    _save(root, adjustments)
    return gone
